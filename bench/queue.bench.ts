/**
 * Queue runs on this machine: throughput of a filter pipeline with 1, 2 and 4 `refinery worker`
 * processes (one thread each), as a speed-up over 1 process, against a local `refinery run`
 * with one thread; and the queue's overhead per job (Redis commands, Redis memory, time) on a run
 * of many tiny tasks. Uses its own redis-server on a free port, so that its command counts are
 * its own. Text: ../shared/devdata (web and quality sets) when present, else generated text.
 * BENCH_QUICK=1 (bench/quick.ts): two small shards, 1 worker process, 5 tiny shards.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer, type Socket } from 'node:net';
import { once } from 'node:events';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { loadPipelineFile } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { RunQueue } from '../pipeline/queue/run-queue.ts';
import { submitRun } from '../pipeline/queue/submit.ts';
import type { QueueTarget } from '../pipeline/queue/connection.ts';
import { devdataFile, readDevdataJsonl } from './devdata.ts';
import { sized } from './quick.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';

registerBuiltinStages();

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = join(ROOT, 'bin', 'refinery.mjs');
const SHARDS = sized(8, 2);
const SHARD_BYTES = sized(1_500_000, 20_000);

const dir = await mkdtemp(join(tmpdir(), 'refinery-bench-queue-'));
const children: ChildProcess[] = [];
// Whatever happens, leave no redis-server or worker behind.
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
});

function realTexts(): { texts: string[]; origin: string } | null {
  const files = ['web/dolma_cc_main_2019_30_seg00140.jsonl', 'quality/dclm_human_quality_dev.jsonl', 'quality/sotu_state_of_the_union.jsonl.gz'];
  if (!files.every((f) => devdataFile(f) !== undefined)) return null;
  const texts = files.flatMap((f) => readDevdataJsonl<{ text: string }>(f).map((d) => d.text));
  return { texts, origin: 'devdata web + DCLM quality + State of the Union texts, repeated' };
}

function generatedTexts(): { texts: string[]; origin: string } {
  const words = 'the of and to in a is that for it as was with be by on not he this are or his from at which data model text'.split(' ');
  let seed = 7;
  const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const texts = Array.from({ length: 500 }, () => {
    const lines = Array.from({ length: 3 + Math.floor(rnd() * 20) }, () => `${Array.from({ length: 6 + Math.floor(rnd() * 20) }, () => words[Math.floor(rnd() * words.length)]).join(' ')}.`);
    return lines.join('\n');
  });
  return { texts, origin: 'generated text (devdata not present, or quick mode)' };
}

async function writeShards(into: string, count: number, bytesPerShard: number, texts: string[]): Promise<number> {
  await mkdir(into, { recursive: true });
  let docs = 0;
  let k = 0;
  for (let s = 0; s < count; s++) {
    const lines: string[] = [];
    let bytes = 0;
    while (bytes < bytesPerShard) {
      const text = texts[k++ % texts.length]!;
      const line = JSON.stringify({ id: `s${s}-${lines.length}`, text });
      lines.push(line);
      bytes += line.length + 1;
    }
    docs += lines.length;
    await writeFile(join(into, `part-${String(s).padStart(3, '0')}.jsonl`), `${lines.join('\n')}\n`);
  }
  return docs;
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

async function startRedis(port: number): Promise<void> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  children.push(proc);
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => 100, maxRetriesPerRequest: null });
  probe.on('error', () => {});
  for (let i = 0; i < 100 && (await probe.ping().catch(() => null)) !== 'PONG'; i++) await sleep(100);
  probe.disconnect();
}

/** Starts worker processes and waits until each has loaded its task thread. */
async function startWorkers(t: QueueTarget, n: number): Promise<ChildProcess[]> {
  const procs: ChildProcess[] = [];
  const ready: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const p = spawn(process.execPath, [BIN, 'worker', '--redis', t.redis, '--queue', t.queue, '--prefix', t.prefix, '-c', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(p);
    procs.push(p);
    let log = '';
    ready.push(
      new Promise((resolve) =>
        p.stderr!.on('data', (b: Buffer) => {
          log += b.toString();
          if (log.includes('working on queue')) resolve();
        }),
      ),
    );
  }
  await Promise.all(ready);
  return procs;
}

async function stopWorkers(procs: ChildProcess[]): Promise<void> {
  await Promise.all(procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : (p.once('exit', r), p.kill('SIGTERM'))))));
}

async function redisInfo(redis: Redis, field: string): Promise<number> {
  const info = await redis.info();
  return Number(info.match(new RegExp(`^${field}:(\\d+)`, 'm'))?.[1] ?? NaN);
}

async function pipelineFile(name: string, inputs: string, stages: string): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, `inputs: ${inputs}\noutput: out-${name}\nworkers: 1\nstages:\n${stages}`);
  return file;
}

interface QueueRunFigures {
  secs: number;
  jobs: number;
  /** Commands sent by the workers and the submitter (Lua scripts count once). */
  roundTrips: number;
  /** Commands Redis executed, those inside Lua scripts included. */
  commands: number;
  memoryQueued: number;
  memoryAfter: number;
}

/**
 * MONITOR on a plain socket; calls `onCommand` with the source (`ip:port`, or `lua` inside a
 * script) of every command Redis executes. Not ioredis's monitor(): it enters its monitoring state
 * a tick after Redis's OK, so a command logged in the same packet as the OK fails it with
 * "Command queue state error" (the warm workers make that likely).
 */
async function monitorCommands(redisUrl: string, onCommand: (source: string) => void): Promise<Socket> {
  const socket = createConnection({ host: '127.0.0.1', port: Number(new URL(redisUrl).port) });
  await once(socket, 'connect');
  socket.setEncoding('utf8');
  let started!: () => void;
  const ok = new Promise<void>((resolve) => (started = resolve));
  let rest = '';
  socket.on('data', (chunk: string) => {
    const lines = (rest + chunk).split('\r\n');
    rest = lines.pop()!;
    for (const line of lines) {
      // A logged command: +1712098529.327989 [0 127.0.0.1:62763] "info" (Redis escapes line breaks in arguments).
      const m = /^\+[\d.]+ \[\d+ ([^\]]+)\]/.exec(line);
      if (m) onCommand(m[1]!);
      else if (line === '+OK') started();
      else throw new Error(`redis MONITOR: unexpected reply ${line}`);
    }
  });
  socket.write('MONITOR\r\n');
  await ok;
  return socket;
}

/** Runs a queued pipeline to completion, watching Redis with MONITOR. */
async function queueRun(t: QueueTarget, admin: Redis, file: string, output: string): Promise<QueueRunFigures> {
  const config = await loadPipelineFile(file, { output });
  // The bench's own connections (polling, INFO) are left out of the counts.
  const poller = new Redis(t.redis);
  const own = new Set<string>();
  for (const c of [poller, admin]) own.add(String(await c.client('INFO')).match(/ addr=(\S+)/)![1]!);
  let roundTrips = 0;
  let commands = 0;
  const monitor = await monitorCommands(t.redis, (source) => {
    if (own.has(source)) return;
    commands++;
    if (source !== 'lua') roundTrips++;
  });
  const rq = RunQueue.open(t);
  const mem0 = await redisInfo(admin, 'used_memory');
  const t0 = performance.now();
  const { run } = await submitRun(rq, config, { force: true, retry: { attempts: 3, backoff: 1000 } });
  const firstPhaseJobs = (await rq.records.get(run))!.plan.phases[0]!.tasks.length + 1;
  const memoryQueued = ((await redisInfo(admin, 'used_memory')) - mem0) / firstPhaseJobs;
  const key = `${t.prefix}:${t.queue}:runs:${run}`;
  while (!(await poller.hget(key, 'finished_at'))) await sleep(50);
  const secs = (performance.now() - t0) / 1000;
  monitor.destroy();
  const plan = (await rq.records.get(run))!.plan;
  const jobs = plan.phases.reduce((a, p) => a + p.tasks.length + 1, 0);
  await rq.close();
  poller.disconnect();
  const memoryAfter = ((await redisInfo(admin, 'used_memory')) - mem0) / jobs;
  return { secs, jobs, roundTrips, commands, memoryQueued, memoryAfter };
}

const { texts, origin } = realTexts() ?? generatedTexts();
const docs = await writeShards(join(dir, 'input'), SHARDS, SHARD_BYTES, texts);
const mb = (SHARDS * SHARD_BYTES) / 1e6;
const filters = '  - gopher-quality\n  - gopher-repetition\n  - c4\n';
const main = await pipelineFile('filters', 'input/*.jsonl', filters);

const port = await freePort();
await startRedis(port);
const admin = new Redis({ port });
const target: QueueTarget = { redis: `redis://127.0.0.1:${port}`, queue: 'bench', prefix: '{bench}', cluster: false };

// Baseline: the same pipeline run locally on one thread (after a warm-up that loads the stages).
await writeShards(join(dir, 'warm-local'), 1, 2000, texts);
await runPipeline(await loadPipelineFile(await pipelineFile('warm-local', 'warm-local/*.jsonl', filters), { output: join(dir, 'warm-local-out') }), { quiet: true });
const t0 = performance.now();
await runPipeline(await loadPipelineFile(main, { output: join(dir, 'local') }), { quiet: true });
const localSecs = (performance.now() - t0) / 1000;

const rows: ({ n: number } & QueueRunFigures)[] = [];
for (const n of sized([1, 2, 4], [1])) {
  const procs = await startWorkers(target, n);
  // A warm-up run (one tiny shard per worker) so that every task thread has loaded its modules.
  const warm = await pipelineFile(`warm${n}`, 'warm/*.jsonl', filters);
  await writeShards(join(dir, 'warm'), n, 2000, texts);
  await queueRun(target, admin, warm, join(dir, `warm-out-${n}`));
  const r = await queueRun(target, admin, main, join(dir, `queue-${n}`));
  rows.push({ n, ...r });
  await stopWorkers(procs);
  await rm(join(dir, 'warm'), { recursive: true, force: true });
}

// Overhead per job: 200 tiny shards, no stages, one worker process, against the same locally.
const TINY = sized(200, 5);
await writeShards(join(dir, 'tiny'), TINY, 200, texts);
const tiny = await pipelineFile('tiny', 'tiny/*.jsonl', '  []\n');
await runPipeline(await loadPipelineFile(tiny, { output: join(dir, 'tiny-local-warm') }), { quiet: true });
const t1 = performance.now();
await runPipeline(await loadPipelineFile(tiny, { output: join(dir, 'tiny-local') }), { quiet: true });
const tinyLocal = (performance.now() - t1) / 1000;
const procs = await startWorkers(target, 1);
await queueRun(target, admin, await pipelineFile('tiny-warm', 'tiny/part-000.jsonl', '  []\n'), join(dir, 'tiny-warm'));
const overhead = await queueRun(target, admin, tiny, join(dir, 'tiny-queue'));
await stopWorkers(procs);

const base = rows[0]!;
console.log(`Input: ${SHARDS} shards, ${mb.toFixed(1)} MB, ${docs} documents (${origin}); stages gopher-quality, gopher-repetition, c4.`);
console.log(`Machine: ${availableParallelism()} cores, load average ${loadavg()[0]!.toFixed(1)} at the end (shared machine); Redis ${target.redis} (private).\n`);
console.log('| run | seconds | MB/s | docs/s | speed-up vs 1 worker process | Redis commands sent per job |');
console.log('|---|---:|---:|---:|---:|---:|');
console.log(`| local \`refinery run\`, 1 thread (baseline for the per-core figure) | ${localSecs.toFixed(2)} | ${(mb / localSecs).toFixed(2)} | ${Math.round(docs / localSecs)} | ${(base.secs / localSecs).toFixed(2)} | – |`);
for (const r of rows) console.log(`| queue, ${r.n} worker process${r.n > 1 ? 'es' : ''} × 1 thread | ${r.secs.toFixed(2)} | ${(mb / r.secs).toFixed(2)} | ${Math.round(docs / r.secs)} | ${(base.secs / r.secs).toFixed(2)} | ${(r.roundTrips / r.jobs).toFixed(1)} |`);
console.log('');
console.log(`Queue overhead per job (${TINY} tiny shards, no stages, 1 worker process; ${overhead.jobs} jobs):`);
console.log('');
console.log('| measure | value |');
console.log('|---|---:|');
console.log(`| Redis commands sent per job, each a round trip unless pipelined (worker and submitter, idle polling included) | ${(overhead.roundTrips / overhead.jobs).toFixed(1)} |`);
console.log(`| Redis commands executed per job (inside BullMQ's Lua scripts included) | ${(overhead.commands / overhead.jobs).toFixed(1)} |`);
console.log(`| Redis memory per queued job | ${(overhead.memoryQueued / 1024).toFixed(2)} KiB |`);
console.log(`| Redis memory per completed job (kept 7 days), events stream and run record included | ${(overhead.memoryAfter / 1024).toFixed(2)} KiB |`);
console.log(`| time per task, queue | ${((overhead.secs / TINY) * 1000).toFixed(1)} ms |`);
console.log(`| time per task, local run (baseline) | ${((tinyLocal / TINY) * 1000).toFixed(1)} ms |`);
console.log(`| queue overhead per task | ${(((overhead.secs - tinyLocal) / TINY) * 1000).toFixed(1)} ms |`);
console.log(`\nPeak RSS of this process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);

admin.disconnect();
for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
await rm(dir, { recursive: true, force: true });
