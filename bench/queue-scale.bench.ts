/**
 * Rehearsal of a large queue run's shape (issue 12): many small input shards through a pipeline
 * with a filter, a partitioned dedup merge (repeating phase) and the partitioned shuffle, run by
 * `refinery submit` and two `refinery worker` processes, compared byte for byte with a local
 * `refinery run` on two threads. Prints the jobs, wall times, the queue's overhead per job and the
 * Redis memory the run's keys take (MEMORY USAGE of every key under the run's prefix; INFO
 * used_memory beside it, which other users of a shared Redis move too).
 *
 * Redis: REDIS_URL (default redis://127.0.0.1:6379), under a prefix of its own, deleted after.
 * `npm run bench -- queue-scale [--shards N]` (default 2,000); BENCH_QUICK=1: 50 shards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadPipelineFile } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { RunQueue } from '../pipeline/queue/run-queue.ts';
import { submitRun } from '../pipeline/queue/submit.ts';
import type { QueueTarget } from '../pipeline/queue/connection.ts';
import { sized } from './quick.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';

registerBuiltinStages();

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'refinery.mjs');
const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const SHARDS = Number(arg('shards') ?? sized(2000, 50));
const DOCS_PER_SHARD = 4;
const WORKERS = 2;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

const dir = await mkdtemp(join(tmpdir(), 'refinery-bench-queue-scale-'));
const children: ChildProcess[] = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

const WORDS = 'the of and to in a is that for it as was with be by on not he this are or his from at which data model text river shard token'.split(' ');

/** Small shards of generated prose; about one document in five repeats one of an earlier shard. */
async function writeShards(into: string): Promise<number> {
  await mkdir(into, { recursive: true });
  let seed = 11;
  const rnd = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
  const sentence = () => {
    const w = Array.from({ length: 8 + Math.floor(rnd() * 12) }, () => WORDS[Math.floor(rnd() * WORDS.length)]!);
    return `${w[0]![0]!.toUpperCase()}${w.join(' ').slice(1)}.`;
  };
  const written: string[] = [];
  let bytes = 0;
  for (let s = 0; s < SHARDS; s++) {
    const lines: string[] = [];
    for (let d = 0; d < DOCS_PER_SHARD; d++) {
      const text = written.length > 10 && rnd() < 0.2 ? written[Math.floor(rnd() * written.length)]! : Array.from({ length: 4 }, () => Array.from({ length: 3 }, sentence).join(' ')).join('\n');
      written.push(text);
      lines.push(JSON.stringify({ id: `s${s}-d${d}`, text, source: s % 3 ? 'web' : 'books' }));
    }
    const body = lines.join('\n') + '\n';
    bytes += Buffer.byteLength(body);
    await writeFile(join(into, `shard-${String(s).padStart(5, '0')}.jsonl`), body);
  }
  return bytes;
}

const STAGES = [
  '  - c4',
  '  - stage: exact-dedup',
  '    options: { partitions: 4 }',
  '  - stage: tokenize',
  '    options: { shuffle_seed: 3, shuffle_buckets: 16 }',
].join('\n');

async function pipelineFile(name: string): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, `inputs: input/*.jsonl\noutput: out-${name}\nworkers: ${WORKERS}\nstages:\n${STAGES}\n`);
  return file;
}

async function startWorkers(t: QueueTarget): Promise<ChildProcess[]> {
  const ready: Promise<void>[] = [];
  const procs = Array.from({ length: WORKERS }, () => {
    const p = spawn(process.execPath, [BIN, 'worker', '--redis', t.redis, '--queue', t.queue, '--prefix', t.prefix, '-c', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(p);
    let log = '';
    ready.push(new Promise((resolve) => p.stderr!.on('data', (b: Buffer) => ((log += b.toString()), log.includes('working on queue') && resolve()))));
    return p;
  });
  await Promise.all(ready);
  return procs;
}

async function stopWorkers(procs: ChildProcess[]): Promise<void> {
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : (p.once('exit', r), p.kill('SIGTERM'))))));
}

async function usedMemory(redis: Redis): Promise<number> {
  return Number((await redis.info('memory')).match(/^used_memory:(\d+)/m)?.[1] ?? NaN);
}

/** Keys under the prefix, and the bytes MEMORY USAGE reports for them. */
async function prefixMemory(redis: Redis, prefix: string): Promise<{ keys: number; bytes: number }> {
  let keys = 0;
  let bytes = 0;
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    const usage = await Promise.all(batch.map((k) => redis.memory('USAGE', k, 'SAMPLES', 0) as Promise<number | null>));
    keys += batch.length;
    bytes += usage.reduce<number>((a, u) => a + (u ?? 0), 0);
  } while (cursor !== '0');
  return { keys, bytes };
}

/** sha256 of every data output file (kept, rejected, errors, tokens), by name. */
async function outputDigests(out: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const sub of ['kept', 'rejected', 'errors', 'tokens']) {
    for (const n of (await readdir(join(out, sub)).catch(() => [] as string[])).sort()) {
      files.set(`${sub}/${n}`, createHash('sha256').update(await readFile(join(out, sub, n))).digest('hex'));
    }
  }
  return files;
}

const inputBytes = await writeShards(join(dir, 'input'));

const tLocal = performance.now();
await runPipeline(await loadPipelineFile(await pipelineFile('local')), { quiet: true });
const localSecs = (performance.now() - tLocal) / 1000;

const target: QueueTarget = { redis: REDIS_URL, queue: 'rehearsal', prefix: `{rehearsal-${process.pid}}`, cluster: false };
const admin = new Redis(REDIS_URL);
const workers = await startWorkers(target);
const rq = RunQueue.open(target);
const mem0 = await usedMemory(admin);
let peakUsed = mem0;
let peakKeys = { keys: 0, bytes: 0 };
const t0 = performance.now();
const { run } = await submitRun(rq, await loadPipelineFile(await pipelineFile('queue')), { force: true, retry: { attempts: 3, backoff: 1000 } });
const afterSubmit = await prefixMemory(admin, target.prefix);
const firstPhaseJobs = SHARDS + 1;
const recordKey = `${target.prefix}:${target.queue}:runs:${run}`;
let samples = 0;
while (!(await admin.hget(recordKey, 'finished_at'))) {
  await sleep(1000);
  peakUsed = Math.max(peakUsed, await usedMemory(admin));
  // MEMORY USAGE of every key costs a scan: every 10 s
  if (samples++ % 10 === 0) {
    const m = await prefixMemory(admin, target.prefix);
    if (m.bytes > peakKeys.bytes) peakKeys = m;
  }
}
const queueSecs = (performance.now() - t0) / 1000;
const atEnd = await prefixMemory(admin, target.prefix);
if (atEnd.bytes > peakKeys.bytes) peakKeys = atEnd;
const usedAtEnd = await usedMemory(admin);
await stopWorkers(workers);
await rq.close();

const taskJobs = (await readdir(join(dir, 'out-queue', '_work', 'tasks'))).filter((f) => f.endsWith('.json')).length;
const stats = JSON.parse(await readFile(join(dir, 'out-queue', 'stats.json'), 'utf8')) as { phases: { stage: string; phase: string; tasks: number; rounds?: number }[]; totals: Record<string, number> };
const phaseJobs = stats.phases.length;
const jobs = taskJobs + phaseJobs;

const [local, queued] = await Promise.all([outputDigests(join(dir, 'out-local')), outputDigests(join(dir, 'out-queue'))]);
const differing = [...new Set([...local.keys(), ...queued.keys()])].filter((k) => local.get(k) !== queued.get(k));

const kib = (b: number) => (b / 1024).toFixed(2);
console.log(`${SHARDS} input shards of ${DOCS_PER_SHARD} documents (${(inputBytes / 1e6).toFixed(2)} MB), pipeline c4 → exact-dedup (4 partitions) → tokenize (shuffle, 16 buckets); ${WORKERS} worker processes × 1 thread vs a local run on ${WORKERS} threads; Redis ${REDIS_URL}`);
console.log('');
console.log('| measure | value |');
console.log('|---|---:|');
console.log(`| output of the queue run equals the local run's (kept, rejected, errors, tokens: ${local.size} files) | ${differing.length === 0 ? 'yes' : `NO: ${differing.slice(0, 5).join(', ')}`} |`);
console.log(`| documents in / kept | ${stats.totals.in} / ${stats.totals.kept} |`);
console.log(`| phases (merge rounds) | ${phaseJobs} (${stats.phases.find((p) => p.phase === 'merge')?.rounds ?? '-'}) |`);
console.log(`| jobs: task jobs + phase jobs | ${taskJobs} + ${phaseJobs} = ${jobs} |`);
console.log(`| wall, local run (${WORKERS} threads) | ${localSecs.toFixed(1)} s |`);
console.log(`| wall, queue run (${WORKERS} workers, submit to completion) | ${queueSecs.toFixed(1)} s |`);
console.log(`| queue overhead per task job, worker time ((queue − local) × ${WORKERS} / task jobs) | ${(((queueSecs - localSecs) * WORKERS * 1000) / taskJobs).toFixed(1)} ms |`);
console.log(`| run's keys after submit (first phase queued: ${firstPhaseJobs} jobs) | ${afterSubmit.keys} keys, ${(afterSubmit.bytes / 1e6).toFixed(2)} MB, ${kib(afterSubmit.bytes / firstPhaseJobs)} KiB per queued job |`);
console.log(`| run's keys at the end (completed jobs kept 7 days) | ${atEnd.keys} keys, ${(atEnd.bytes / 1e6).toFixed(2)} MB, ${kib(atEnd.bytes / jobs)} KiB per job |`);
console.log(`| run's keys, largest sample | ${(peakKeys.bytes / 1e6).toFixed(2)} MB |`);
console.log(`| INFO used_memory: before, peak, end (whole server: other users included) | ${(mem0 / 1e6).toFixed(1)}, ${(peakUsed / 1e6).toFixed(1)}, ${(usedAtEnd / 1e6).toFixed(1)} MB |`);

const keys: string[] = [];
let cursor = '0';
do {
  const [next, batch] = await admin.scan(cursor, 'MATCH', `${target.prefix}:*`, 'COUNT', 1000);
  cursor = next;
  keys.push(...batch);
} while (cursor !== '0');
for (let i = 0; i < keys.length; i += 1000) await admin.del(...keys.slice(i, i + 1000));
admin.disconnect();
await rm(dir, { recursive: true, force: true });
if (differing.length > 0) process.exitCode = 1;
