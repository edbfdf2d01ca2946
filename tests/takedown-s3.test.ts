/**
 * `refinery remove` on a run stored under an s3:// prefix (s3rver): the objects it leaves are the
 * files the same removal leaves in a folder run, each object written whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { useS3Workspace, type LocalS3 } from './fixtures/s3/s3-server.ts';
import { loadPipelineFile } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { removeFromRun } from '../takedown/remove-run.ts';
import { BIN } from './cli-processes.ts';
import { SAMPLE_CORPUS } from './sample-corpus.ts';

registerBuiltinStages();

const corpus = SAMPLE_CORPUS;
let s3: LocalS3;
let work: string;

useS3Workspace(['bkt'], 'refinery-takedown-s3-test-', (ws) => ({ s3, work } = ws));

async function pipeline(name: string, output: string): Promise<string> {
  const f = join(work, `${name}.yaml`);
  await writeFile(f, `inputs: ["${corpus}/multilingual.jsonl.gz", "${corpus}/generated-lowquality.jsonl.gz"]\noutput: ${output}\nworkers: 1\nseed: 3\nstages: [gopher-quality, exact-dedup, decontam-index, {stage: tokenize, options: {seq_len: 128, shard_size: 2000, row_group_size: 1024}}]\n`);
  return f;
}

const objects = (prefix: string) => s3.objects('bkt', prefix);

async function localFiles(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) out.set(relative(dir, join(e.parentPath, e.name)), await readFile(join(e.parentPath, e.name)));
  return out;
}

const DATA = /^(kept|rejected|errors|tokens|stats|decontam|removals)\//;

test('remove takes a run on a bucket as it takes a folder: the same objects as the folder\'s files after the same removal', async () => {
  const local = join(work, 'local');
  await runPipeline(await loadPipelineFile(await pipeline('local', local)), { quiet: true });
  await runPipeline(await loadPipelineFile(await pipeline('remote', 's3://bkt/runs/t')), { quiet: true });
  // Two kept documents of one input shard and a rejected one of the other.
  const idsIn = async (rel: string) => gunzipSync(await readFile(join(local, rel))).toString().trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
  const keptIds = await idsIn('kept/shard-00000.jsonl.gz');
  const rejected = await idsIn('rejected/shard-00001.jsonl.gz');
  const ids = join(work, 'ids.txt');
  await writeFile(ids, [keptIds[0], keptIds[5], rejected[2]].join('\n') + '\n');
  const here = await removeFromRun(local, { ids });
  assert.deepEqual(here.documents, { kept: 2, rejected: 1, errored: 0 });

  const cli = spawn(process.execPath, [BIN, 'remove', 's3://bkt/runs/t', '--ids', ids], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REFINERY_FROM_SOURCE: '1' } });
  let out = '';
  let err = '';
  cli.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  cli.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((r) => cli.on('exit', r));
  assert.equal(code, 0, err);
  assert.match(out, /^removed 3 documents \(2 kept, 1 rejected, 0 errored\) from 2 document shards\n/);

  const want = new Map([...(await localFiles(local))].filter(([k]) => DATA.test(k)));
  const got = new Map([...(await objects('runs/t'))].filter(([k]) => DATA.test(k)));
  assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort());
  for (const [k, v] of want) assert.ok(got.get(k)!.equals(v), k);
  const stats = (b: Buffer) => (JSON.parse(b.toString()) as { totals: unknown }).totals;
  assert.deepEqual(stats((await objects('runs/t')).get('stats.json')!), stats(await readFile(join(local, 'stats.json'))));
  assert.ok(!(await objects('runs/t')).has('removals/journal.json'));
});
