import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { runPipeline, stagesConfig } from '../pipeline/engine/run.ts';
import { inSample } from '../pipeline/engine/trial.ts';
import { main } from '../bin/cli.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { readJsonlDir } from './output-files.ts';

registerBuiltinStages();

type Rec = { id: string; text: string; meta: Record<string, unknown> };

/** `files` JSONL files of `per` documents each, ids `f<i>-<j>`; every third text is too short for gopher-quality. */
async function corpus(dir: string, files: number, per: number): Promise<string[]> {
  const paths: string[] = [];
  for (let i = 0; i < files; i++) {
    const lines = Array.from({ length: per }, (_, j) => JSON.stringify({ id: `f${i}-${j}`, text: j % 3 === 0 ? 'too short' : `Document ${i} ${j}. ${'The quick brown fox jumps over the lazy dog near the river bank. '.repeat(12)}` }));
    const p = join(dir, `in-${i}.jsonl.gz`);
    await writeFile(p, gzipSync(`${lines.join('\n')}\n`));
    paths.push(p);
  }
  return paths;
}

const idsOf = async (out: string, folder: string) => (await readJsonlDir<Rec>(join(out, folder))).map((d) => d.id).sort();
const readStats = async (out: string) => JSON.parse(await readFile(join(out, 'stats.json'), 'utf8')) as { read: { docs: number }; totals: { in: number; kept: number; rejected: number } };

test('--limit N reads the first N documents of each input shard, and only those are in the run', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'trial-limit-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const inputs = await corpus(dir, 3, 40);
  const out = join(dir, 'out');
  await runPipeline(await stagesConfig({ inputs, output: out, stages: [{ stage: 'gopher-quality' }], workers: 2, limit: 5 }), { quiet: true });
  const s = await readStats(out);
  assert.equal(s.read.docs, 15);
  assert.equal(s.totals.in, 15);
  const seen = [...(await idsOf(out, 'kept')), ...(await idsOf(out, 'rejected'))].sort();
  assert.deepEqual(seen, [0, 1, 2].flatMap((i) => [0, 1, 2, 3, 4].map((j) => `f${i}-${j}`)).sort());
  assert.equal((await idsOf(out, 'rejected')).length, 6, 'documents 0 and 3 of each shard are too short');

  // The limit is part of the run's identity: resuming with another one is refused.
  await assert.rejects(
    runPipeline(await stagesConfig({ inputs, output: out, stages: [{ stage: 'gopher-quality' }], workers: 2, limit: 6 }), { quiet: true }),
    /another config.*config limit: was 5, now 6/,
  );
});

test('--sample 0.5 chooses the same documents with 1 and 2 workers, by the seeded hash of the id', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'trial-sample-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const inputs = await corpus(dir, 3, 60);
  const run = async (name: string, workers: number, seed = 7) => {
    const out = join(dir, name);
    await runPipeline(await stagesConfig({ inputs, output: out, stages: [{ stage: 'gopher-quality' }], workers, seed, sample: 0.5 }), { quiet: true });
    return out;
  };
  const one = await run('w1', 1);
  const two = await run('w2', 2);
  const kept1 = await idsOf(one, 'kept');
  assert.deepEqual(await idsOf(two, 'kept'), kept1);
  assert.deepEqual(await idsOf(two, 'rejected'), await idsOf(one, 'rejected'));

  const all = [0, 1, 2].flatMap((i) => Array.from({ length: 60 }, (_, j) => `f${i}-${j}`));
  const chosen = all.filter((id) => inSample(id, 7, 0.5)).sort();
  assert.deepEqual([...kept1, ...(await idsOf(one, 'rejected'))].sort(), chosen);
  assert.equal((await readStats(one)).read.docs, chosen.length);
  assert.ok(chosen.length > 60 && chosen.length < 120, `about half of 180: ${chosen.length}`);
  // Another seed chooses other documents.
  assert.notDeepEqual(await idsOf(await run('seed8', 2, 8), 'kept'), kept1);
});

test('--dry-run prints inputs, shards and phases with task counts, and writes nothing', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'trial-dry-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await corpus(dir, 2, 10);
  const yaml = join(dir, 'p.yaml');
  await writeFile(yaml, 'inputs: ["in-*.jsonl.gz"]\noutput: out\nstages: [gopher-quality, exact-dedup]\n');
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((c: string | Uint8Array) => (chunks.push(String(c)), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await main(['node', 'refinery', 'run', yaml, '--dry-run', '--limit', '3']);
  } finally {
    process.stdout.write = write;
  }
  const text = chunks.join('');
  assert.equal(code, 0, text);
  assert.equal(existsSync(join(dir, 'out')), false, 'no output folder');
  assert.match(text, /Inputs: 2 files, 2 shards/);
  assert.match(text, /in-0\.jsonl\.gz/);
  assert.match(text, /first 3 records of each shard/);
  assert.match(text, /1\. read and filter\s+2 tasks/);
  assert.match(text, /2\. map exact-dedup\s+2 tasks/);
  assert.match(text, /3\. reduce exact-dedup\s+\d+ tasks?/);
  assert.match(text, /apply exact-dedup\s+2 tasks/);
});
