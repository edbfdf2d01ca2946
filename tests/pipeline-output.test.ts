/**
 * Where a run may write and what it may delete (issue 17, items 1–5), when it fails for errors
 * (item 7), and how the command line reports what the machine or the YAML refuses (item 13).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, cp, mkdir, mkdtemp, readFile, readdir, rename, rm, stat, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';

const BIN = resolve('bin/refinery.mjs');
const PLUGIN = resolve('tests/fixtures/core/test-stages.ts');

function refinery(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 120_000 });
}

/** A folder with data/a.jsonl (`docs` documents) and p.yaml reading it into out/. */
async function project(docs = 3, extra = ''): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-output-'));
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'a.jsonl'), Array.from({ length: docs }, (_, i) => JSON.stringify({ id: `d${i}`, text: `document number ${i}` })).join('\n') + '\n');
  await writeFile(join(dir, 'p.yaml'), `inputs: ["data/*.jsonl"]\noutput: out\n${extra}`);
  return dir;
}

test('the root folder and the home folder are refused as output folders before anything is written', async () => {
  const dir = await project();
  const root = refinery(['run', join(dir, 'p.yaml'), '-o', '/', '-q']);
  assert.equal(root.status, 1, root.stderr);
  assert.match(root.stderr, /refusing to write a run into the root folder/);
  assert.equal(existsSync('/run.lock'), false);
  const home = join(dir, 'home');
  await mkdir(home);
  for (const out of [home, dir]) {
    const r = refinery(['run', join(dir, 'p.yaml'), '-o', out, '-q'], { HOME: home });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /refusing to write a run into your home folder or a folder that holds it/);
  }
  assert.deepEqual(await readdir(home), [], 'nothing written in the home folder');
});

test('a run deletes only the temporaries it wrote, where it wrote them', async () => {
  const dir = await project();
  const mine = join(dir, 'out', 'myproject', 'cache', 'important.tmp');
  await mkdir(join(dir, 'out', 'myproject', 'cache'), { recursive: true });
  await writeFile(mine, 'keep me');
  await writeFile(join(dir, 'out', 'notes.tmp'), 'keep me too');
  assert.equal(refinery(['run', join(dir, 'p.yaml'), '-q', '--no-report']).status, 0);
  assert.equal(await readFile(mine, 'utf8'), 'keep me');
  // What a killed run leaves (writeFileAtomic's and the shard writers' names), and a user's file in kept/.
  const stale = join(dir, 'out', 'kept', 'shard-00000.jsonl.gz.4242.k3x9qz.tmp');
  const staleTop = join(dir, 'out', 'stats.json.4242.a1b2c3.tmp');
  await writeFile(stale, 'half written');
  await writeFile(staleTop, 'half written');
  await writeFile(join(dir, 'out', 'kept', 'draft.tmp'), 'mine');
  const again = refinery(['run', join(dir, 'p.yaml'), '-q', '--no-report']);
  assert.equal(again.status, 0, again.stderr);
  assert.equal(existsSync(stale), false, 'the stale shard temporary is removed');
  assert.equal(existsSync(staleTop), false, 'the stale stats.json temporary is removed');
  assert.equal(await readFile(mine, 'utf8'), 'keep me');
  assert.equal(await readFile(join(dir, 'out', 'notes.tmp'), 'utf8'), 'keep me too');
  assert.equal(await readFile(join(dir, 'out', 'kept', 'draft.tmp'), 'utf8'), 'mine');
});

test('an output folder equal to, inside or holding an input folder is refused, naming both', async () => {
  const dir = await project();
  await writeFile(join(dir, 'folder.yaml'), 'inputs: [data]\noutput: out\n');
  const cases: [string[], RegExp][] = [
    [['run', join(dir, 'folder.yaml'), '-o', join(dir, 'data')], /output folder .*data holds the input .*data \(inputs\[0\]\)/],
    [['run', join(dir, 'folder.yaml'), '-o', join(dir, 'data', 'out')], /output folder .*data\/out is inside the input folder .*data \(inputs\[0\]\)/],
    [['run', join(dir, 'p.yaml'), '-o', dir], /output folder .* holds the input .*data\/\*\.jsonl \(inputs\[0\]\)/],
    [['run', join(dir, 'p.yaml'), '-i', join(dir, 'data', '**', '*.jsonl'), '-o', join(dir, 'data', 'x')], /is inside the input folder .*data \(--input\[0\]\)/],
  ];
  for (const [args, re] of cases) {
    const r = refinery([...args, '-q', '--no-report']);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  assert.deepEqual((await readdir(join(dir, 'data'))).sort(), ['a.jsonl'], 'nothing written into the input folder');
  // A glob that does not reach into subfolders may have its output below it.
  assert.equal(refinery(['run', join(dir, 'p.yaml'), '-o', join(dir, 'data', 'out'), '-q', '--no-report']).status, 0);
});

test('run.json names its format; --force never deletes a folder whose run.json is not a Refinery run record', async () => {
  const dir = await project();
  assert.equal(refinery(['run', join(dir, 'p.yaml'), '-q', '--no-report']).status, 0);
  const record = JSON.parse(await readFile(join(dir, 'out', 'run.json'), 'utf8'));
  assert.equal(record.format, 'refinery-run');
  assert.equal(record.version, 1);

  const other = join(dir, 'other');
  await mkdir(join(other, 'report'), { recursive: true });
  await writeFile(join(other, 'run.json'), '{"tool": "another tool", "runs": 3}\n');
  await writeFile(join(other, 'stats.json'), '{"theirs": true}\n');
  await writeFile(join(other, 'report', 'index.html'), '<p>theirs</p>\n');
  const r = refinery(['run', join(dir, 'p.yaml'), '-o', other, '--force', '-q', '--no-report']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /not the output folder of a Refinery run \(its run\.json is not a Refinery run record \(no "format": "refinery-run"\)\)/);
  assert.equal(await readFile(join(other, 'stats.json'), 'utf8'), '{"theirs": true}\n');
  assert.equal(await readFile(join(other, 'report', 'index.html'), 'utf8'), '<p>theirs</p>\n');
  assert.equal(await readFile(join(other, 'run.json'), 'utf8'), '{"tool": "another tool", "runs": 3}\n');
});

test('a moved or copied checkout resumes; a changed config or input is refused naming what changed', async () => {
  const dir = await project(5, `plugins: ["${PLUGIN}"]\nstages:\n  - first-text\n`);
  assert.equal(refinery(['run', join(dir, 'p.yaml'), '-q', '--no-report']).status, 0);
  assert.equal((await readFile(join(dir, 'out', 'run.json'), 'utf8')).includes(dir), false, 'run.json holds no absolute path of the checkout');

  const moved = `${dir}-moved`;
  await rename(dir, moved);
  const resumed = refinery(['run', join(moved, 'p.yaml'), '--no-report']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.match(resumed.stderr, /read and filter: 1 of 1 tasks already finished, skipped/);
  const copied = `${dir}-copied`;
  await cp(moved, copied, { recursive: true, preserveTimestamps: true });
  const again = refinery(['run', join(copied, 'p.yaml'), '--no-report']);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /already finished, skipped/);

  await writeFile(join(copied, 'seed.yaml'), `inputs: ["data/*.jsonl"]\noutput: out\nseed: 7\nplugins: ["${PLUGIN}"]\nstages:\n  - first-text\n`);
  const seed = refinery(['run', join(copied, 'seed.yaml'), '-q', '--no-report']);
  assert.equal(seed.status, 1);
  assert.match(seed.stderr, /another config or other inputs \(config seed: was 0, now 7\)/);
  await writeFile(join(copied, 'opts.yaml'), `inputs: ["data/*.jsonl"]\noutput: out\nplugins: ["${PLUGIN}"]\nstages:\n  - first-text\n  - stage: slow\n    options: {ms: 1}\n`);
  assert.match(refinery(['run', join(copied, 'opts.yaml'), '-q', '--no-report']).stderr, /config stages: 1 entries, now 2/);
  await writeFile(join(copied, 'data', 'a.jsonl'), '{"id":"x","text":"shorter"}\n');
  const changed = refinery(['run', join(copied, 'p.yaml'), '-q', '--no-report']);
  assert.equal(changed.status, 1);
  assert.match(changed.stderr, /input file data\/a\.jsonl changed: \d+ bytes, now 28/);
  await writeFile(join(copied, 'data', 'b.jsonl'), '{"id":"y","text":"more"}\n');
  assert.match(refinery(['run', join(copied, 'p.yaml'), '-q', '--no-report']).stderr, /new input file data\/b\.jsonl/);
});

test('a run fails when more than max_error_rate of its documents errored, and always when all did; it warns when it keeps none', async () => {
  const poisoned = (n: number, bad: number) => Array.from({ length: n }, (_, i) => JSON.stringify({ id: `d${i}`, text: i < bad ? `POISON ${i}` : `document number ${i}` })).join('\n') + '\n';
  const dir = await project();
  await writeFile(join(dir, 'data', 'a.jsonl'), poisoned(20, 2));
  const stages = `plugins: ["${PLUGIN}"]\nstages: [poison]\n`;
  await writeFile(join(dir, 'p.yaml'), `inputs: ["data/*.jsonl"]\noutput: out\n${stages}`);
  const fails = refinery(['run', join(dir, 'p.yaml'), '-q', '--no-report']);
  assert.equal(fails.status, 1, 'the default max_error_rate is 5%; 10% errored');
  assert.match(fails.stderr, /2 of 20 documents errored \(10%\): more than max_error_rate \(5%\) allows; the errors are in .*out\/errors\//);
  assert.ok(existsSync(join(dir, 'out', 'stats.json')), 'stats.json is written to read why');

  await writeFile(join(dir, 'tolerant.yaml'), `inputs: ["data/*.jsonl"]\noutput: out2\nmax_error_rate: 0.2\n${stages}`);
  assert.equal(refinery(['run', join(dir, 'tolerant.yaml'), '-q', '--no-report']).status, 0);

  await writeFile(join(dir, 'data', 'a.jsonl'), poisoned(4, 4));
  await writeFile(join(dir, 'all.yaml'), `inputs: ["data/*.jsonl"]\noutput: out3\nmax_error_rate: 1\n${stages}`);
  const all = refinery(['run', join(dir, 'all.yaml'), '-q', '--no-report']);
  assert.equal(all.status, 1);
  assert.match(all.stderr, /4 of 4 documents errored \(100%\): every document errored/);

  await writeFile(join(dir, 'data', 'a.jsonl'), '{"id":"1","text":"short"}\n');
  await writeFile(join(dir, 'none.yaml'), 'inputs: ["data/*.jsonl"]\noutput: out4\nstages:\n  - stage: select\n    options: {where: [{field: quality, min: 0.5, missing: drop}]}\n');
  const none = refinery(['run', join(dir, 'none.yaml'), '-q', '--no-report']);
  assert.equal(none.status, 0, none.stderr);
  assert.match(none.stderr, /warning: the run kept no document \(1 in: 1 rejected, 0 errored\)/);
});

test('REFINERY_DEBUG=1 adds the stack trace to every error; a read-only output folder and a YAML alias bomb get a plain message', async (t) => {
  const dir = await project();
  await writeFile(join(dir, 'nothing.yaml'), 'inputs: ["data/*.parquet"]\noutput: out\n');
  const plain = refinery(['run', join(dir, 'nothing.yaml'), '-q']);
  assert.equal(plain.status, 1);
  assert.match(plain.stderr, /inputs\[0\]: ".*data\/\*\.parquet" matches no file/);
  assert.doesNotMatch(plain.stderr, /\n\s+at /);
  const debug = refinery(['run', join(dir, 'nothing.yaml'), '-q'], { REFINERY_DEBUG: '1' });
  assert.equal(debug.status, 1);
  assert.match(debug.stderr, /matches no file[^]*\n\s+at .*run-plan/);

  const bomb = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (const [i, c] of ['b', 'c', 'd', 'e', 'f', 'g'].entries()) bomb.push(`${c}: &${c} [${Array(9).fill(`*${'abcdef'[i]}`).join(',')}]`);
  await writeFile(join(dir, 'bomb.yaml'), `${bomb.join('\n')}\ninputs: [data]\noutput: out\n`);
  const b = refinery(['run', join(dir, 'bomb.yaml'), '-q']);
  assert.equal(b.status, 1, b.stderr);
  assert.match(b.stderr, /bomb\.yaml: \(top level\): invalid YAML: Excessive alias count/);
  assert.doesNotMatch(b.stderr, /unexpected error/);

  const locked = join(dir, 'locked');
  await mkdir(locked);
  await chmod(locked, 0o555);
  // root ignores permission bits; an immutable folder refuses root too.
  let immutable = false;
  if (await writeFile(join(locked, 'probe'), '').then(() => true, () => false)) {
    await rm(join(locked, 'probe'));
    immutable = spawnSync('chattr', ['+i', locked]).status === 0;
    if (!immutable) return t.skip('cannot make a folder read-only here');
  }
  t.after(async () => {
    if (immutable) spawnSync('chattr', ['-i', locked]);
    await chmod(locked, 0o755);
  });
  const ro = refinery(['run', join(dir, 'p.yaml'), '-o', join(locked, 'out'), '-q']);
  assert.equal(ro.status, 1, ro.stderr);
  assert.match(ro.stderr, /cannot write to the output folder .*locked\/out: (permission denied|operation not permitted)/);
  assert.doesNotMatch(ro.stderr, /unexpected error/);
  assert.equal(await stat(join(locked, 'out')).catch(() => null), null);
});
