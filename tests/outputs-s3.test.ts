/**
 * Runs stored under an s3:// prefix (`output: s3://bucket/prefix`), against a real S3-protocol
 * server (s3rver) on 127.0.0.1: a run stores what a local run writes, task by task, resumes from
 * the markers in the bucket, refuses what is not its own, replaces with --force, holds run.lock in
 * the bucket, uploads large files in parts, and queue workers store as `refinery run` does.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { TEST_REDIS } from './redis-fixture.ts';
import { useS3Workspace, type LocalS3 } from './fixtures/s3/s3-server.ts';
import { loadPipelineFile, prepareConfig } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { ConfigError, RefineryError } from '../pipeline/errors.ts';
import { RunQueue } from '../pipeline/queue/run-queue.ts';
import { submitRun } from '../pipeline/queue/submit.ts';
import { runStatus } from '../pipeline/queue/status.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { parse } from 'yaml';
import { BIN } from './cli-processes.ts';
import { SAMPLE_CORPUS } from './sample-corpus.ts';

registerBuiltinStages();

// Parts of 5 MiB (S3's smallest), so that a test file of a few MB is a multipart upload; read when s3.ts loads.
process.env.REFINERY_S3_PART_BYTES = String(5 * 1024 * 1024);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const corpus = SAMPLE_CORPUS;
let s3: LocalS3;
let work: string;

useS3Workspace(['bkt', 'other'], 'refinery-s3-out-test-', (ws) => ({ s3, work } = ws));

const objects = (bucket: string, prefix: string) => s3.objects(bucket, prefix);

/** Files of a local output folder a run publishes (not _work/), by relative path. */
async function localFiles(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    const rel = relative(dir, join(e.parentPath, e.name));
    if (!rel.startsWith('_work') && rel !== 'run.lock') out.set(rel, await readFile(join(dir, rel)));
  }
  return out;
}

/** A pipeline of a filter and a global stage over the sample corpus's JSONL files, in several shards. */
async function pipeline(name: string, output: string, stages = '[c4, exact-dedup]', extra = ''): Promise<string> {
  const f = join(work, `${name}.yaml`);
  await writeFile(f, `inputs: ["${corpus}/*.jsonl.gz"]\noutput: ${output}\nworkers: 1\nsplit_bytes: 20000\nseed: 3\nstages: ${stages}\n${extra}`);
  return f;
}

test('an s3:// output gets the files a local run writes, byte for byte; each task stores its own objects and marker, and a rerun redoes nothing', async () => {
  const local = await runPipeline(await loadPipelineFile(await pipeline('local', join(work, 'local-out'))), { quiet: true });
  const config = await loadPipelineFile(await pipeline('remote', 's3://bkt/runs/a'), { workDir: join(work, 'scratch-a') });
  assert.equal(config.output, 's3://bkt/runs/a');
  assert.equal(config.scratch, join(work, 'scratch-a'));
  const remote = await runPipeline(config, { quiet: true });
  assert.equal(remote.output, 's3://bkt/runs/a');
  const want = await localFiles(local.output);
  const got = await objects('bkt', 'runs/a');
  assert.ok(!got.has('run.lock'), 'the lock is gone when the run has ended');
  // run.json holds the run id, which names the output (a folder here, the prefix there): its identity is compared instead.
  const published = (keys: Iterable<string>) => [...keys].filter((k) => !k.startsWith('_work/') && !['stats.json', 'report.md', 'run.json'].includes(k)).sort();
  assert.deepEqual(published(got.keys()), published(want.keys()), 'the same names');
  for (const k of published(want.keys())) assert.ok(got.get(k)!.equals(want.get(k)!), `${k} as the local run wrote it`);
  const identity = (b: Buffer) => (JSON.parse(b.toString()) as { identity: unknown }).identity;
  assert.deepEqual(identity(got.get('run.json')!), identity(want.get('run.json')!));
  const stats = (o: Buffer) => (JSON.parse(o.toString()) as { totals: unknown }).totals;
  assert.deepEqual(stats(got.get('stats.json')!), stats(want.get('stats.json')!));
  // Phase data is dropped when the run has finished; every task's marker stays.
  const work_ = [...got.keys()].filter((k) => k.startsWith('_work/'));
  assert.ok(work_.length > 0 && work_.every((k) => k.startsWith('_work/tasks/')), work_.join(', '));
  assert.deepEqual(work_.map((k) => k.slice('_work/tasks/'.length)).sort(), (await readdir(join(local.output, '_work', 'tasks'))).sort(), 'the markers of the same tasks');
  assert.deepEqual(await readdir(join(work, 'scratch-a')), [], 'every task emptied its scratch');

  // Finished: a rerun skips every task (markers in the bucket) and stores the same bytes.
  const again = await runPipeline(config, { quiet: true });
  assert.deepEqual(again.stats.totals, remote.stats.totals);
  const after = await objects('bkt', 'runs/a');
  for (const k of published(got.keys())) assert.ok(after.get(k)!.equals(got.get(k)!), k);
});

test('a run killed with SIGKILL in the middle resumes from the markers in the bucket and stores what an uninterrupted run stores', async () => {
  const local = await localFiles(join(work, 'local-out'));
  const file = await pipeline('killed', 's3://bkt/runs/b');
  const proc = spawn(process.execPath, [BIN, 'run', file, '-q', '--no-report'], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, REFINERY_FROM_SOURCE: '1' } });
  let log = '';
  proc.stderr!.on('data', (b: Buffer) => (log += b.toString()));
  const exited = new Promise((r) => proc.on('exit', r));
  // Killed once some tasks have stored their markers, before the run has finished.
  for (let i = 0; ; i++) {
    const page = await s3.client.send(new ListObjectsV2Command({ Bucket: 'bkt', Prefix: 'runs/b/_work/tasks/map-1-' }));
    if ((page.Contents ?? []).length > 0) break;
    assert.ok(i < 600 && proc.exitCode === null, `the run got to the map phase\n${log}`);
    await sleep(100);
  }
  proc.kill('SIGKILL');
  await exited;
  const cut = await objects('bkt', 'runs/b');
  assert.ok(!cut.has('stats.json'), 'killed before the end');
  assert.ok(cut.has('run.lock'), 'the killed run left its lock');
  const again = await runPipeline(await loadPipelineFile(file), { quiet: true });
  assert.ok(again.stats.totals.in > 0);
  const now = await objects('bkt', 'runs/b');
  const data = (keys: Iterable<string>) => [...keys].filter((k) => /^(kept|rejected|errors|stats)\//.test(k)).sort();
  assert.deepEqual(data(now.keys()), data(local.keys()));
  for (const k of data(local.keys())) assert.ok(now.get(k)!.equals(local.get(k)!), `${k} as an uninterrupted local run wrote it`);
  assert.ok(!now.has('run.lock'));
});

test('a prefix that holds something else is refused; another run of ours is refused until --force, which replaces it', async () => {
  await s3.put('bkt', 'foreign/kept/part-0.jsonl', '{"x":1}\n');
  const foreign = await loadPipelineFile(await pipeline('foreign', 's3://bkt/foreign'), {});
  await assert.rejects(runPipeline(foreign, { quiet: true }), (e: unknown) => e instanceof RefineryError && /s3:\/\/bkt\/foreign is not the output of a Refinery run \(it has no run\.json\) but holds kept/.test(e.message));
  await assert.rejects(runPipeline(foreign, { quiet: true, force: true }), /not the output of a Refinery run/, '--force never deletes what is not ours');
  await s3.put('bkt', 'foreign2/run.json', '{"tool":"elsewhere"}');
  const foreign2 = await loadPipelineFile(await pipeline('foreign2', 's3://bkt/foreign2'), {});
  await assert.rejects(runPipeline(foreign2, { quiet: true }), /its run\.json is not a Refinery run record/);

  const first = await loadPipelineFile(await pipeline('first', 's3://bkt/runs/c', '[c4, exact-dedup]'), {});
  await runPipeline(first, { quiet: true });
  await s3.put('bkt', 'runs/c/stats/left-over.json', '{}');
  // Another config into the same prefix (from another machine).
  const second = await loadPipelineFile(await pipeline('second', 's3://bkt/runs/c', '[gopher-quality]'), {});
  await assert.rejects(runPipeline(second, { quiet: true }), (e: unknown) => e instanceof RefineryError && /s3:\/\/bkt\/runs\/c holds the output of a run with another config or other inputs \(config stages/.test(e.message));
  const replaced = await runPipeline(second, { quiet: true, force: true });
  const now = await objects('bkt', 'runs/c');
  assert.ok(!now.has('stats/left-over.json'), '--force deleted the objects the earlier run left');
  assert.equal((JSON.parse(now.get('stats.json')!.toString()) as { totals: { kept: number } }).totals.kept, replaced.stats.totals.kept);
  // The first config, run again: the prefix holds the second config's run now.
  await assert.rejects(runPipeline(first, { quiet: true }), /holds the output of a run with another config/);
});

test('a run holds run.lock in the bucket: a lock of another host stops a second run, naming the object to delete', async () => {
  await s3.put('bkt', 'runs/d/run.lock', 'far-away-host 4242\n');
  const config = await loadPipelineFile(await pipeline('locked', 's3://bkt/runs/d'), {});
  await assert.rejects(runPipeline(config, { quiet: true }), (e: unknown) => e instanceof RefineryError && e.message.includes('s3://bkt/runs/d is in use by another refinery run (far-away-host pid 4242); wait for it, or delete s3://bkt/runs/d/run.lock'));
  // A lock of this host whose process is gone (a killed run) is taken over.
  await s3.put('bkt', 'runs/d/run.lock', `${hostname()} 999999999\n`);
  await runPipeline(config, { quiet: true });
  assert.ok(!(await objects('bkt', 'runs/d')).has('run.lock'));
});

test('a file larger than a part is stored as a multipart upload, whole, and the task scratch is emptied', async () => {
  const config = await prepareConfig({ inputs: [join(corpus, 'web.jsonl.gz')], output: 's3://bkt/runs/big', work_dir: join(work, 'scratch-big'), stages: [] }, { file: 'test', baseDir: work });
  const { openRunStore } = await import('../pipeline/run-folder/open-store.ts');
  const store = await openRunStore(config);
  const space = await store.openTask();
  const big = randomBytes(11 * 1024 * 1024 + 123);
  await mkdir(join(space.dir, 'tokens'), { recursive: true });
  await writeFile(join(space.dir, 'tokens', 'shard-00000.parquet'), big);
  await writeFile(join(space.dir, 'stats.json'), '{}\n');
  assert.deepEqual(await space.commit(), { files: 2, bytes: big.length + 3, gets: 0, bytes_in: 0 });
  await space.close();
  assert.deepEqual(await readdir(join(work, 'scratch-big')), []);
  assert.ok((await objects('bkt', 'runs/big')).get('tokens/shard-00000.parquet')!.equals(big));
  // Another task reads it back by ranges, or whole.
  const reader = await store.openTask();
  const path = join(reader.dir, 'tokens', 'shard-00000.parquet');
  assert.ok(Buffer.from(await reader.readRange(path, 5 * 1024 * 1024 - 7, 100)).equals(big.subarray(5 * 1024 * 1024 - 7, 5 * 1024 * 1024 + 93)));
  assert.ok(await reader.need(path));
  assert.ok((await readFile(path)).equals(big));
  assert.equal(await reader.need(join(reader.dir, 'tokens', 'none.parquet')), false);
  assert.deepEqual(await reader.list(join(reader.dir, 'tokens')), ['shard-00000.parquet']);
  assert.equal((await reader.commit()).files, 0, 'what a task fetched is not stored again');
  await reader.close();
});

test('output keys: a malformed s3:// output and work_dir with a local output are config errors naming the key', async () => {
  await assert.rejects(prepareConfig({ inputs: [corpus], output: 's3://', stages: [] }, { file: 'p.yaml', baseDir: work }), (e: unknown) => e instanceof ConfigError && e.keyPath === 'output');
  await assert.rejects(prepareConfig({ inputs: [corpus], output: 'out', work_dir: 'w', stages: [] }, { file: 'p.yaml', baseDir: work }), (e: unknown) => e instanceof ConfigError && e.keyPath === 'work_dir' && /only for an s3:\/\/ output/.test(e.message));
  const dflt = await prepareConfig({ inputs: [corpus], output: 's3://bkt/x/y/', stages: [] }, { file: 'p.yaml', baseDir: work });
  assert.equal(dflt.output, 's3://bkt/x/y');
  assert.equal(dflt.scratch, undefined, 'scratch under the temporary folder by default');
});

test('--force keeps the run\'s own bucket lock and deletes the earlier run\'s objects, phase data included', async () => {
  const first = await loadPipelineFile(await pipeline('lockf1', 's3://bkt/runs/e'), { workDir: join(work, 'scratch-e') });
  await runPipeline(first, { quiet: true });
  await s3.put('bkt', 'runs/e/_work/stage-1-exact-dedup/left-over.bin', 'x');
  const second = await loadPipelineFile(await pipeline('lockf2', 's3://bkt/runs/e', '[gopher-quality]'), { workDir: join(work, 'scratch-e2') });
  let held: string | undefined;
  await runPipeline(second, {
    quiet: true,
    force: true,
    onFinished: async () => {
      held = (await objects('bkt', 'runs/e')).get('run.lock')?.toString();
    },
  });
  assert.equal(held, `${hostname()} ${process.pid}\n`);
  const now = await objects('bkt', 'runs/e');
  assert.ok(![...now.keys()].some((k) => k.includes('exact-dedup')), 'nothing of the first run is left');
});

test('an s3:// output may not hold an s3:// input or lie below one that is read recursively', async () => {
  const inside = await loadPipelineFile(await pipeline('overlap1', 's3://other/data/out'), { inputs: ['s3://other/data/**/*.jsonl.gz'] });
  await assert.rejects(runPipeline(inside, { quiet: true }), /output s3:\/\/other\/data\/out is inside the input s3:\/\/other\/data\/\*\*\/\*\.jsonl\.gz \(--input\[0\]\)/);
  const holds = await loadPipelineFile(await pipeline('overlap2', 's3://other/data'), { inputs: ['s3://other/data/in/*.jsonl.gz'] });
  await assert.rejects(runPipeline(holds, { quiet: true }), /output s3:\/\/other\/data holds the input/);
  // A glob of one folder's files does not read a sibling prefix.
  const beside = await loadPipelineFile(await pipeline('overlap3', 's3://other/data-out'), { inputs: ['s3://other/data/*.jsonl.gz'] });
  await assert.rejects(runPipeline(beside, { quiet: true }), /matches no file/, 'not refused for overlap (the glob matches nothing here)');
});

test('a run that fails max_error_rate stores its errors, stats.json and report.md (no report/), releases the lock, and says where the errors are', async () => {
  const data = join(work, 'bad');
  await mkdir(data, { recursive: true });
  await writeFile(join(data, 'a.jsonl'), '{"id":"1","text":"fine words here"}\nnot json\n{"id":"3","text":"more fine words"}\n{broken\n');
  const f = join(work, 'bad.yaml');
  await writeFile(f, `inputs: ["${data}/*.jsonl"]\noutput: s3://bkt/runs/bad\nworkers: 1\nstages: []\n`);
  await assert.rejects(runPipeline(await loadPipelineFile(f), { quiet: true }), /2 of 4 documents errored .* the errors are in s3:\/\/bkt\/runs\/bad\/errors\//);
  const left = await objects('bkt', 'runs/bad');
  assert.ok(left.has('stats.json') && left.has('report.md') && left.has('errors/shard-00000.jsonl.gz') && !left.has('run.lock') && !left.has('report/report.html'), [...left.keys()].join(', '));
});

test('the summary names the bucket', async () => {
  const { printRunSummary } = await import('../pipeline/cli/run-summary.ts');
  const result = { output: 's3://bkt/runs/a', shown: (...parts: string[]) => ['s3://bkt/runs/a', ...parts].join('/'), names: ['kept', 'tokens'], stats: { totals: { in: 1, kept: 1, rejected: 0, errored: 0 }, read: { docs: 1, errors: 0, bytes: 1 }, stages: [], phases: [] } } as unknown as Parameters<typeof printRunSummary>[0];
  const write = process.stdout.write.bind(process.stdout);
  let printed = '';
  process.stdout.write = ((chunk: string) => ((printed += chunk), true)) as typeof process.stdout.write;
  try {
    printRunSummary(result, true);
  } finally {
    process.stdout.write = write;
  }
  assert.match(printed, /Outputs in s3:\/\/bkt\/runs\/a\/: kept\//);
  assert.match(printed, /Report for researchers: s3:\/\/bkt\/runs\/a\/report\/report\.html/);
  assert.doesNotMatch(printed, /s3:\/[^/]/);
});

test('the quickstart reads from and writes to a bucket when only its inputs and output name the bucket', async () => {
  for (const name of await readdir(corpus)) await s3.put('other', `corpus/${name}`, await readFile(join(corpus, name)));
  const text = (await readFile(join(ROOT, 'examples/quickstart.yaml'), 'utf8')).replaceAll('path: corpus/', 'path: s3://other/corpus/').replace('  - corpus/*.jsonl.gz', '  - s3://other/corpus/*.jsonl.gz').replace('output: ../out/quickstart', 'output: s3://other/quickstart');
  const raw = parse(text) as { inputs: unknown[]; output: string };
  assert.equal(raw.output, 's3://other/quickstart');
  assert.ok(JSON.stringify(raw.inputs).split('s3://other/corpus/').length === 5, 'every input names the bucket');
  const config = await prepareConfig(raw, { file: join(ROOT, 'examples/quickstart-s3.yaml'), baseDir: join(ROOT, 'examples') }, { workers: 2 });
  const result = await runPipeline(config, { quiet: true, onFinished: async (dir, files) => (await import('../mixes/report/index.ts')).writeRunReport(dir, join(dir, 'report'), files) });
  const got = await objects('other', 'quickstart');
  for (const folder of ['kept', 'rejected', 'tokens', 'stats']) assert.ok([...got.keys()].some((k) => k.startsWith(`${folder}/`)), `${folder}/ stored`);
  // The report read the run from the bucket: rejected documents, stats/ and the token manifest.
  const report = JSON.parse(got.get('report/report.json')!.toString()) as { examples: Record<string, unknown[]>; funnel_by_source: Record<string, unknown>; dedup: { available?: boolean }; buckets: { available?: boolean } };
  assert.ok(Object.keys(report.examples).length > 0 && Object.keys(report.funnel_by_source).length > 0, 'documents read from the bucket');
  assert.notEqual(report.dedup.available, false, 'stats/ read from the bucket');
  assert.notEqual(report.buckets.available, false, 'tokens/manifest.json read from the bucket');
  assert.ok(result.stats.totals.kept > 0 && result.stats.totals.in === result.stats.totals.kept + result.stats.totals.rejected + result.stats.totals.errored);
});

describe('queue workers', () => {
  const REDIS = TEST_REDIS;
  const prefix = `{s3-out-${process.pid}}`;
  const children: ChildProcess[] = [];
  after(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    const redis = new Redis(REDIS);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
  });

  test('a queue run with an s3:// output stores what refinery run stores; submit refuses a prefix another run holds', async () => {
    const local = await localFiles((await runPipeline(await loadPipelineFile(await pipeline('queued-local', join(work, 'queued-local-out'))), { quiet: true })).output);
    const config = await loadPipelineFile(await pipeline('queued', 's3://bkt/runs/q'));
    const t = { redis: REDIS, queue: 'runs', prefix, cluster: false };
    const rq = RunQueue.open(t);
    try {
      const { run } = await submitRun(rq, config, { force: true, retry: { attempts: 2, backoff: 100 }, report: false });
      const worker = spawn(process.execPath, [BIN, 'worker', '--redis', REDIS, '--queue', t.queue, '--prefix', prefix, '-c', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.push(worker);
      let log = '';
      worker.stderr!.on('data', (b: Buffer) => (log += b.toString()));
      for (let i = 0; ; i++) {
        const s = await runStatus(rq, (await rq.records.get(run))!);
        if (s.state === 'completed') break;
        assert.ok(s.state === 'running' && i < 600, `run ${s.state}\n${log}`);
        await sleep(100);
      }
      assert.match(log, /outputs and report\/ in s3:\/\/bkt\/runs\/q/);
      const got = await objects('bkt', 'runs/q');
      const data = (keys: Iterable<string>) => [...keys].filter((k) => /^(kept|rejected|errors)\//.test(k)).sort();
      assert.ok(data(local.keys()).length > 0);
      assert.deepEqual(data(got.keys()), data(local.keys()));
      for (const k of data(local.keys())) assert.ok(got.get(k)!.equals(local.get(k)!), `${k} as a local run wrote it`);
      assert.ok(got.has('stats.json') && got.has('run.json') && !got.has('run.lock'));

      await s3.put('bkt', 'runs/q2/run.lock', 'far-away-host 4242\n');
      const held = await loadPipelineFile(await pipeline('queued2', 's3://bkt/runs/q2'));
      await assert.rejects(submitRun(rq, held, { force: true, retry: { attempts: 1, backoff: 100 }, report: false }), /s3:\/\/bkt\/runs\/q2 is in use by a refinery run \(far-away-host 4242/);
    } finally {
      await rq.close();
    }
  });
});
