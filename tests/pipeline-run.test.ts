import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm, writeFile, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { spawn, spawnSync } from 'node:child_process';
import { loadPipelineFile } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';

registerBuiltinStages();

const BIN = resolve('bin/refinery.mjs');
const PLUGIN = resolve('tests/fixtures/core/test-stages.ts');

/** Writes `shards` JSONL files of generated documents; some exact duplicates, a poison one, a bad line. */
async function makeCorpus(dir: string, shards: number, perShard: number): Promise<void> {
  for (let s = 0; s < shards; s++) {
    const rows: string[] = [];
    for (let i = 0; i < perShard; i++) {
      const n = s * perShard + i;
      const text = n % 10 === 3 ? 'a text that repeats across shards' : n % 97 === 5 ? `POISON ${n}` : n % 13 === 0 ? 'tiny' : `document ${n}: ${'lorem '.repeat(n % 17)}`;
      rows.push(JSON.stringify({ id: `doc-${n}`, text, source: s % 2 ? 'web' : 'books' }));
    }
    if (s === 1) rows.splice(4, 0, '{"id": broken');
    await writeFile(join(dir, `part-${s}.jsonl`), rows.join('\n') + '\n');
  }
}

async function pipelineIn(dir: string, extra = ''): Promise<string> {
  const f = join(dir, 'pipeline.yaml');
  await writeFile(f, `inputs: ["data/*.jsonl"]\noutput: out\nplugins: ["${PLUGIN}"]\nstages:\n  - poison\n  - first-text\n  - stage: select\n    options: {where: [{field: source, in: [web, books]}]}\n${extra}`);
  return f;
}

async function tree(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const sub of ['kept', 'rejected', 'errors']) {
    const files = await readdir(join(dir, sub)).catch(() => [] as string[]);
    for (const f of files.sort()) out.set(`${sub}/${f}`, await readFile(join(dir, sub, f)));
  }
  return out;
}

/**
 * Waits for an event (a file appearing, say) rather than a fixed time, so that a loaded machine
 * only makes the test slower; fails after `seconds` with what it waited for.
 */
async function waitFor(what: string, happened: () => Promise<boolean>, seconds = 120): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!(await happened())) {
    if (Date.now() > deadline) assert.fail(`waited ${seconds} s for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const readJsonlGz = async (f: string) => gunzipSync(await readFile(f)).toString('utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);

test('every document is kept, rejected with a reason, or errored; outputs are identical for 1 and 3 workers', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-run-'));
  await (await import('node:fs/promises')).mkdir(join(dir, 'data'));
  await makeCorpus(join(dir, 'data'), 4, 250);
  const file = await pipelineIn(dir);
  const one = await runPipeline(await loadPipelineFile(file, { workers: 1, output: join(dir, 'w1') }), { quiet: true });
  const three = await runPipeline(await loadPipelineFile(file, { workers: 3, output: join(dir, 'w3') }), { quiet: true });
  const t = one.stats.totals;
  assert.deepEqual(three.stats.totals, t);
  assert.equal(t.in, 1001);
  assert.equal(t.in, t.kept + t.rejected + t.errored);
  assert.equal(one.stats.read.errors, 1, 'the broken line');
  const poisonCount = Array.from({ length: 1000 }, (_, n) => n).filter((n) => n % 10 !== 3 && n % 97 === 5).length;
  assert.equal(one.stats.stages[0]!.errored, poisonCount, 'only the poisoned documents fail, not their batches');
  const dupDrops = one.stats.stages[1]!.reasons['duplicate'];
  assert.equal(dupDrops, 99, 'the repeated text is kept once across 4 shards');
  const a = await tree(join(dir, 'w1'));
  const b = await tree(join(dir, 'w3'));
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), `${k} differs between 1 and 3 workers`);
  const rejected = (await Promise.all([...a.keys()].filter((k) => k.startsWith('rejected/')).map((k) => readJsonlGz(join(dir, 'w1', k))))).flat();
  assert.equal(rejected.length, t.rejected);
  for (const r of rejected) assert.match((r.meta as Record<string, string>).reject_reason!, /^(poison:too_short|first-text:duplicate)$/);
  const errors = (await Promise.all([...a.keys()].filter((k) => k.startsWith('errors/')).map((k) => readJsonlGz(join(dir, 'w1', k))))).flat();
  assert.equal(errors.length, t.errored);
  assert.ok(errors.some((e) => e.stage === 'read' && /part-1\.jsonl:5$/.test(String(e.where))));
  assert.ok(errors.some((e) => e.stage === 'poison' && /poisoned document/.test(String(e.error)) && typeof e.text === 'string'));
  const stats = JSON.parse(await readFile(join(dir, 'w1', 'stats.json'), 'utf8'));
  assert.deepEqual(stats.totals, t);
  assert.match(await readFile(join(dir, 'w1', 'report.md'), 'utf8'), /\| first-text:duplicate +\| +99 \|/);
});

test('a rerun resumes: finished tasks are skipped; a run killed with SIGKILL finishes with the same bytes', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-resume-'));
  await (await import('node:fs/promises')).mkdir(join(dir, 'data'));
  await makeCorpus(join(dir, 'data'), 6, 200);
  const file = await pipelineIn(dir, '  - stage: slow\n    options: {ms: 40}\n');
  const clean = spawnSync(process.execPath, [BIN, 'run', file, '-o', join(dir, 'clean'), '-w', '2', '-q'], { encoding: 'utf8' });
  assert.equal(clean.status, 0, clean.stderr);

  const child = spawn(process.execPath, [BIN, 'run', file, '-o', join(dir, 'killed'), '-w', '2', '-q'], { stdio: 'ignore' });
  const markers = join(dir, 'killed', '_work', 'tasks');
  let exited = false;
  const gone = new Promise((r) => child.once('exit', r)).then(() => (exited = true));
  await waitFor('the first task marker of the last phase', async () => {
    assert.equal(exited, false, 'the run ended before it could be killed');
    return (await readdir(markers).catch(() => [] as string[])).some((f) => f.startsWith('process-1'));
  });
  child.kill('SIGKILL');
  await gone;
  assert.equal(await stat(join(dir, 'killed', 'stats.json')).catch(() => null), null, 'the run was interrupted before it finished');
  const rerun = spawnSync(process.execPath, [BIN, 'run', file, '-o', join(dir, 'killed'), '-w', '2'], { encoding: 'utf8' });
  assert.equal(rerun.status, 0, rerun.stderr);
  assert.match(rerun.stderr, /already finished, skipped/);
  const a = await tree(join(dir, 'clean'));
  const b = await tree(join(dir, 'killed'));
  assert.deepEqual([...b.keys()], [...a.keys()]);
  for (const [k, v] of a) assert.ok(v.equals(b.get(k)!), `${k} differs after resume`);
  const leftovers = (await readdir(join(dir, 'killed', 'kept'))).filter((f) => f.endsWith('.tmp'));
  assert.deepEqual(leftovers, []);
});

test('config errors name the file and key path; the CLI prints them without a stack trace and exits 1', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-config-'));
  const cases: [string, RegExp][] = [
    ['inputs: [a]\noutput: o\nstages:\n  - stage: select\n    options: {where: [{field: x, min: "high"}]}\n', /stages\[0\]\.options\.where\[0\]\.min: expected number, received string/],
    ['inputs: [a]\noutput: o\nstages: [nonsense]\n', /stages\[0\]: unknown stage "nonsense"; known stages: .*select/],
    ['inputs: [a]\noutput: o\nworkers: 0\n', /workers: Too small/i],
    ['inputs: [a]\noutput: o\nstagez: []\n', /\(top level\): unknown key "stagez"/],
    ['inputs: [a\noutput: o\n', /line \d+, column \d+: invalid YAML/],
    ['input: [a]\noutput: o\n', /\(top level\): unknown key "input" \(did you mean "inputs"\?\)/],
    ['output: o\n', /: inputs: required, but missing/],
  ];
  for (const [i, [yaml, re]] of cases.entries()) {
    const f = join(dir, `p${i}.yaml`);
    await writeFile(f, yaml);
    await assert.rejects(loadPipelineFile(f), (e: unknown) => e instanceof ConfigError && e.message.startsWith(f) && re.test(e.message), `case ${i}`);
  }
  const f = join(dir, 'p0.yaml');
  const r = spawnSync(process.execPath, [BIN, 'run', f], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^refinery: .*p0\.yaml: stages\[0\]\.options\.where\[0\]\.min/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  const missing = join(dir, 'missing.yaml');
  await writeFile(missing, 'inputs: [does-not-exist.jsonl]\noutput: o\n');
  const m = spawnSync(process.execPath, [BIN, 'run', missing], { encoding: 'utf8' });
  assert.equal(m.status, 1);
  assert.match(m.stderr, /inputs\[0\]: no such file: .*does-not-exist\.jsonl/);
});

test('a different config in the same output folder is refused unless --force', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-force-'));
  await writeFile(join(dir, 'a.jsonl'), '{"id":"1","text":"hello there"}\n');
  await writeFile(join(dir, 'p1.yaml'), 'inputs: [a.jsonl]\noutput: out\n');
  await writeFile(join(dir, 'p2.yaml'), 'inputs: [a.jsonl]\noutput: out\nseed: 5\n');
  assert.equal(spawnSync(process.execPath, [BIN, 'run', join(dir, 'p1.yaml'), '-q']).status, 0);
  const refused = spawnSync(process.execPath, [BIN, 'run', join(dir, 'p2.yaml'), '-q'], { encoding: 'utf8' });
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /another config.*--force/);
  assert.equal(spawnSync(process.execPath, [BIN, 'run', join(dir, 'p2.yaml'), '-q', '--force']).status, 0);
});

test('--help describes the commands', () => {
  const r = spawnSync(process.execPath, [BIN, '--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  for (const c of ['run', 'stages']) assert.match(r.stdout, new RegExp(`\\n\\s+${c}\\b`));
  const run = spawnSync(process.execPath, [BIN, 'run', '--help'], { encoding: 'utf8' });
  for (const flag of ['--input', '--output', '--workers', '--force']) assert.match(run.stdout, new RegExp(flag));
});

test('a large file is split into stripes that together read every record exactly once', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-stripe-'));
  const rows = Array.from({ length: 4500 }, (_, i) => (i === 2100 ? '{bad json' : JSON.stringify({ id: `d${i}`, text: `text number ${i}` })));
  await writeFile(join(dir, 'big.jsonl'), rows.join('\n') + '\n');
  await writeFile(join(dir, 'p.yaml'), 'inputs: [big.jsonl]\noutput: out\nsplit_bytes: 40000\n');
  const r = await runPipeline(await loadPipelineFile(join(dir, 'p.yaml'), { workers: 2 }), { quiet: true });
  const kept = await readdir(join(dir, 'out', 'kept'));
  assert.ok(kept.length >= 3, `the file became ${kept.length} shards`);
  assert.deepEqual(r.stats.totals, { in: 4500, kept: 4499, rejected: 0, errored: 1 });
  const ids = (await Promise.all(kept.map((f) => readJsonlGz(join(dir, 'out', 'kept', f))))).flat().map((d) => d.id as string);
  assert.equal(new Set(ids).size, 4499);
});

test('an inputs entry can give its documents default meta fields; a record\'s own fields win', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-inputmeta-'));
  await writeFile(join(dir, 'code.jsonl'), '{"id":"1","text":"print(1)"}\n{"id":"2","text":"x = 2","source":"gist"}\n');
  await writeFile(join(dir, 'p.yaml'), 'inputs:\n  - {path: code.jsonl, meta: {source: stack, category: code}}\noutput: out\n');
  await runPipeline(await loadPipelineFile(join(dir, 'p.yaml'), { workers: 1 }), { quiet: true });
  const kept = await readJsonlGz(join(dir, 'out', 'kept', 'shard-00000.jsonl.gz'));
  assert.deepEqual(kept.map((d) => d.meta), [{ source: 'stack', category: 'code' }, { source: 'gist', category: 'code' }]);
});

test('a stage that cannot be created stops the run before any task, naming its config key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-early-'));
  await writeFile(join(dir, 'a.jsonl'), '{"id":"1","text":"hello there"}\n');
  await writeFile(join(dir, 'p.yaml'), `inputs: [a.jsonl]\noutput: out\nplugins: ["${PLUGIN}"]\nstages:\n  - first-text\n  - stage: quality\n    options: {model: no-such-model}\n`);
  const r = spawnSync(process.execPath, [BIN, 'run', join(dir, 'p.yaml'), '-q'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /p\.yaml: stages\[1\] \(quality\): .*no-such-model/);
  assert.deepEqual(await readdir(join(dir, 'out', '_work', 'tasks')).catch(() => []), [], 'no task ran');
});

test('a rerun over changed inputs is not taken for a resume', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-changed-'));
  await writeFile(join(dir, 'a.jsonl'), '{"id":"1","text":"hello there"}\n{"id":"2","text":"and more"}\n');
  await writeFile(join(dir, 'p.yaml'), 'inputs: [a.jsonl]\noutput: out\n');
  assert.equal(spawnSync(process.execPath, [BIN, 'run', join(dir, 'p.yaml'), '-q', '--no-report']).status, 0);
  await writeFile(join(dir, 'a.jsonl'), '{"id":"1","text":"hello there"}\n');
  const r = spawnSync(process.execPath, [BIN, 'run', join(dir, 'p.yaml'), '-q', '--no-report'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /another config or other inputs/);
});

test('a folder that is not a Refinery output is never emptied, even with --force; a folder input takes only data files', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-foreign-'));
  await (await import('node:fs/promises')).mkdir(join(dir, 'data', 'stats'), { recursive: true });
  await (await import('node:fs/promises')).mkdir(join(dir, 'mine', 'stats'), { recursive: true });
  await writeFile(join(dir, 'data', 'a.jsonl'), '{"id":"1","text":"hello there"}\n');
  await writeFile(join(dir, 'data', 'README.md'), '# not data\n');
  await writeFile(join(dir, 'data', 'stats', 'mine.csv'), 'a,b\n');
  await writeFile(join(dir, 'mine', 'stats', 'mine.csv'), 'a,b\n');
  const r = spawnSync(process.execPath, [BIN, 'filter', join(dir, 'data', 'a.jsonl'), '-o', join(dir, 'mine'), '--stages', 'gopher-quality', '--force', '-q'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not the output folder of a Refinery run \(it has no run\.json\) but holds stats/);
  assert.equal(await readFile(join(dir, 'mine', 'stats', 'mine.csv'), 'utf8'), 'a,b\n');
  await writeFile(join(dir, 'p.yaml'), 'inputs: [data]\noutput: out\n');
  const run = await runPipeline(await loadPipelineFile(join(dir, 'p.yaml'), { workers: 1 }), { quiet: true });
  assert.deepEqual(run.stats.totals, { in: 1, kept: 1, rejected: 0, errored: 0 }, 'README.md and mine.csv are not inputs');
});

test('a second local run on the same output folder is refused while the first runs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-lock-'));
  await (await import('node:fs/promises')).mkdir(join(dir, 'data'));
  await makeCorpus(join(dir, 'data'), 2, 200);
  const gate = join(dir, 'hold');
  await writeFile(gate, '');
  const file = await pipelineIn(dir, `  - stage: slow\n    options: {ms: 10, hold_while: "${gate}"}\n`);
  const first = spawn(process.execPath, [BIN, 'run', file, '-w', '1', '-q', '--no-report'], { stdio: 'ignore' });
  const firstExit = new Promise((r) => first.once('exit', r));
  await waitFor('the first run to take run.lock', async () => Boolean(await stat(join(dir, 'out', 'run.lock')).catch(() => null)));
  const second = spawnSync(process.execPath, [BIN, 'run', file, '-w', '1', '-q', '--no-report'], { encoding: 'utf8' });
  assert.equal(second.status, 1);
  assert.match(second.stderr, /in use by another refinery run/);
  await rm(gate);
  const code = await firstExit;
  assert.equal(code, 0, 'the first run was not disturbed');
  assert.equal(await stat(join(dir, 'out', 'run.lock')).catch(() => null), null, 'the lock is released');
});
