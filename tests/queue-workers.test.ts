/**
 * Queue runs with real Redis and real worker processes (`refinery worker`), compared byte for byte
 * with a local run of the same pipeline. The pipelines use the stage plugin in
 * tests/fixtures/queue/test-stages.ts: a slow filter (so that a worker can be killed mid-task),
 * poison documents, failing tasks, and a global stage whose phases are separated by barriers.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, startCli, until, type CliProcess } from './cli-processes.ts';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { deletePrefixes, freePort, startRedis as startRedisServer, TEST_REDIS } from './redis-fixture.ts';
import { loadPipelineFile } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { RunQueue } from '../pipeline/queue/run-queue.ts';
import { submitRun } from '../pipeline/queue/submit.ts';
import { runStatus, type RunStatus } from '../pipeline/queue/status.ts';
import type { QueueTarget } from '../pipeline/queue/connection.ts';
import { taskId } from '../pipeline/engine/run-plan.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';

registerBuiltinStages();

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PLUGIN = join(ROOT, 'tests', 'fixtures', 'queue', 'test-stages.ts');
const REDIS = TEST_REDIS;
const SHARDS = 3;
const DOCS = 24;

let dir: string;
let localOut: string;
const prefixes: string[] = [];
const children: ChildProcess[] = [];

/** Texts with rejects, poison documents, duplicates across shards and one unreadable line. */
async function writeCorpus(into: string): Promise<void> {
  await mkdir(into, { recursive: true });
  for (let s = 0; s < SHARDS; s++) {
    const lines: string[] = [];
    for (let i = 0; i < DOCS; i++) {
      const text = i % 7 === 3 ? `please reject document ${s}-${i}` : i % 11 === 5 ? `poison pill ${s}-${i}` : i % 4 === 0 ? `shared paragraph number ${i}` : `ordinary text of shard ${s}, line ${i}`;
      lines.push(JSON.stringify({ id: `s${s}-d${i}`, text }));
    }
    if (s === 1) lines.splice(5, 0, '{"id": "broken", "text": ');
    await writeFile(join(into, `part-${s}.jsonl`), `${lines.join('\n')}\n`);
  }
}

interface SleepyOptions {
  ms_per_doc?: number;
  fail_first_attempt?: boolean;
  fail_ids?: string[];
}

async function writePipeline(name: string, sleepy: SleepyOptions): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(
    file,
    [
      'inputs: input/*.jsonl',
      `output: out-${name}`,
      `plugins: [${JSON.stringify(PLUGIN)}]`,
      'workers: 1',
      // About 8% of the documents are poison on purpose; the default max_error_rate (5%) would fail the run.
      'max_error_rate: 0.2',
      'stages:',
      '  - stage: sleepy',
      `    options: ${JSON.stringify(sleepy)}`,
      '  - test-exact-dedup',
      '',
    ].join('\n'),
  );
  return file;
}

/** Every output file (kept, rejected, errors) by relative path, compressed bytes as written. */
async function outputFiles(out: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const sub of ['kept', 'rejected', 'errors']) {
    const names = await readdir(join(out, sub)).catch(() => [] as string[]);
    for (const n of names.sort()) if (!n.endsWith('.tmp')) files.set(`${sub}/${n}`, await readFile(join(out, sub, n)));
  }
  return files;
}

async function assertSameOutput(out: string): Promise<void> {
  const [mine, ref] = await Promise.all([outputFiles(out), outputFiles(localOut)]);
  assert.deepEqual([...mine.keys()], [...ref.keys()]);
  for (const [k, v] of ref) assert.ok(mine.get(k)!.equals(v), `${k} differs from the local run's`);
  const totals = async (o: string) => (JSON.parse(await readFile(join(o, 'stats.json'), 'utf8')) as { totals: unknown }).totals;
  assert.deepEqual(await totals(out), await totals(localOut));
}

function target(prefix: string, redis = REDIS): QueueTarget {
  prefixes.push(prefix);
  return { redis, queue: 'runs', prefix, cluster: false };
}

type WorkerProcess = CliProcess;

function startWorker(t: QueueTarget, ...extra: string[]): WorkerProcess {
  return startCli(dir, ['worker', '--redis', t.redis, '--queue', t.queue, '--prefix', t.prefix, ...extra], children);
}

const cli = (args: string[]) => runCli(dir, args);


async function statusOf(rq: RunQueue, run: string): Promise<RunStatus> {
  return runStatus(rq, (await rq.records.get(run))!);
}

const ended = (rq: RunQueue, run: string) => async () => {
  const s = await statusOf(rq, run);
  return s.state !== 'running' ? s : null;
};

/** A task of the worker process `pid` (any, if omitted) is writing its output: the middle of a task. */
const writing = (out: string, pid?: number) => async () => {
  for (const sub of ['kept', '_work/segment-0'])
    if ((await readdir(join(out, sub)).catch(() => [] as string[])).some((n) => n.endsWith('.tmp') && (pid === undefined || n.includes(`.${pid}.`)))) return true;
  return false;
};

async function submit(t: QueueTarget, pipeline: string, retry = { attempts: 3, backoff: 100 }): Promise<{ rq: RunQueue; run: string; out: string }> {
  const config = await loadPipelineFile(pipeline);
  const rq = RunQueue.open(t);
  const { run } = await submitRun(rq, config, { force: true, retry });
  return { rq, run, out: config.output };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'refinery-queue-'));
  await writeCorpus(join(dir, 'input'));
  const config = await loadPipelineFile(await writePipeline('local', {}));
  localOut = (await runPipeline(config, { quiet: true })).output;
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await deletePrefixes(prefixes.filter((p) => p !== '{rq-restart}'));
  await rm(dir, { recursive: true, force: true });
});

// One after the other: started side by side, a dozen processes loading on a shared 2-core machine
// make each scenario slower than all of them in a row.
describe('queue runs on worker processes', () => {
  test('two worker processes give the local run\'s output byte for byte; a task failing once is retried; submitting twice adds nothing', async () => {
    const t = target(`{rq-two-${process.pid}}`);
    const pipeline = await writePipeline('two', { ms_per_doc: 20, fail_first_attempt: true });
    const rq = RunQueue.open(t);
    try {
      // Paused until both workers are up, so that both take part; they start while `submit` runs.
      await rq.queue.pause();
      const workers = [startWorker(t, '-c', '1'), startWorker(t, '-c', '1')];
      const sub = await cli(['submit', pipeline, '--redis', t.redis, '--queue', t.queue, '--prefix', t.prefix, '--backoff', '100']);
      assert.equal(sub.code, 0, sub.stderr);
      const run = sub.stdout.trim().split('\n').at(-1)!;
      assert.match(run, /^[0-9a-f]{16}$/);
      await until('both workers to start', async () => workers.every((w) => w.log().includes('working on queue')), workers);
      await rq.queue.resume();
      const again = await submitRun(rq, await loadPipelineFile(pipeline), { force: false, retry: { attempts: 3, backoff: 100 } });
      assert.deepEqual(again, { run, outcome: 'already submitted' });
      const wait = await cli(['status', run, '--redis', t.redis, '--queue', t.queue, '--prefix', t.prefix, '--wait', '--interval', '0.2']);
      assert.equal(wait.code, 0, wait.stderr);
      assert.match(wait.stdout, /: completed/);
      await assertSameOutput(join(dir, 'out-two'));
      // The last phase job writes the researcher report, as `refinery run` does.
      const report = JSON.parse(await readFile(join(dir, 'out-two', 'report', 'report.json'), 'utf8')) as { funnel: { available: boolean; totals?: unknown } };
      const stats = JSON.parse(await readFile(join(dir, 'out-two', 'stats.json'), 'utf8')) as { totals: unknown };
      assert.ok(report.funnel.available);
      assert.deepEqual(report.funnel.totals, stats.totals);
      assert.match(await readFile(join(dir, 'out-two', 'report', 'report.html'), 'utf8'), /<svg/);
      // Both processes took tasks; each task ran once, except that the first attempt of each
      // first-phase task failed on purpose and was retried. A map task ran inside the process task
      // before it (pipeline/engine/task.ts, startMap): its job finds its marker and is skipped.
      for (const w of workers) assert.match(w.log(), /: started/);
      const log = workers.map((w) => w.log()).join('');
      const starts = new Map<string, number>();
      for (const m of log.matchAll(/ ((?:process|map|reduce)-\d+-\d+): started/g)) starts.set(m[1]!, (starts.get(m[1]!) ?? 0) + 1);
      const plan = (await rq.records.get(run))!.plan;
      const tasks = plan.phases.flatMap((p) => p.tasks);
      const expected = new Map(tasks.filter((task) => task.kind !== 'map').map((task) => [taskId(task), task.kind === 'process' && task.step === 0 ? 2 : 1] as const));
      assert.deepEqual(new Map([...starts].sort()), new Map([...expected].sort()));
      const maps = tasks.filter((task) => task.kind === 'map').map(taskId);
      assert.ok(maps.length > 0);
      for (const id of maps) assert.match(log, new RegExp(`${id}\\b.*marker found`));

      const third = await submitRun(rq, await loadPipelineFile(pipeline), { force: false, retry: { attempts: 3, backoff: 100 } });
      assert.equal(third.outcome, 'already completed');
      for (const w of workers) w.proc.kill('SIGTERM');
      assert.deepEqual(await Promise.all(workers.map((w) => w.exited)), [0, 0]);
    } finally {
      await rq.close();
    }
  });

  test('a worker killed with kill -9 in the middle of a task: the task is taken up again after the lock expires, nothing lost or duplicated', async () => {
    const t = target(`{rq-kill-${process.pid}}`);
    const fast = ['-c', '1', '--lock-duration', '1500', '--stalled-interval', '500'];
    const { rq, run, out } = await submit(t, await writePipeline('kill', { ms_per_doc: 60 }));
    try {
      // Paused until A is up, so that A surely holds a task; B starts at the same time.
      await rq.queue.pause();
      const a = startWorker(t, ...fast);
      const b = startWorker(t, ...fast);
      await until('worker A to start', async () => a.log().includes('working on queue'), [a]);
      await rq.queue.resume();
      await until('a task of worker A in the middle of writing', writing(out, a.proc.pid), [a]);
      await sleep(300);
      a.proc.kill('SIGKILL');
      assert.equal(await a.exited, null);
      const killedTask = [...a.log().matchAll(/(process-0-\d+): started/g)].at(-1)![1]!;
      assert.doesNotMatch(a.log(), new RegExp(`${killedTask}: done`));

      const s = await until('the run to end', ended(rq, run), [a, b]);
      assert.equal(s.state, 'completed');
      assert.match(b.log(), new RegExp(`${killedTask}: started`));
      await assertSameOutput(out);
      b.proc.kill('SIGTERM');
      assert.equal(await b.exited, 0);
    } finally {
      await rq.close();
    }
  });

  async function startRedis(port: number, dataDir: string): Promise<ChildProcess> {
    const proc = await startRedisServer(port, dataDir);
    children.push(proc);
    return proc;
  }

  test('Redis restarted during a run: the workers reconnect and the run completes with the same output', async () => {
    const port = await freePort();
    const dataDir = join(dir, `redis-${port}`);
    await mkdir(dataDir);
    let redis = await startRedis(port, dataDir);
    const t = target('{rq-restart}', `redis://127.0.0.1:${port}`);
    const { rq, run, out } = await submit(t, await writePipeline('restart', { ms_per_doc: 60 }));
    try {
      const w = startWorker(t, '-c', '1');
      await until('a task in the middle of writing', writing(out), [w]);
      // A maintenance restart: the data is saved on shutdown and loaded on start.
      const admin = new Redis({ port, maxRetriesPerRequest: 1, retryStrategy: () => null });
      admin.on('error', () => {});
      await admin.call('SHUTDOWN', 'SAVE').catch(() => {});
      admin.disconnect();
      await new Promise((r) => (redis.exitCode !== null ? r(null) : redis.once('exit', r)));
      await sleep(500);
      redis = await startRedis(port, dataDir);
      const s = await until('the run to end', ended(rq, run), [w]);
      assert.equal(s.state, 'completed', JSON.stringify(s));
      assert.match(w.log(), /Redis unreachable at redis:\/\/127\.0\.0\.1:\d+ \([^)]*\), retrying[^]*Redis is back/);
      assert.doesNotMatch(w.log(), /\n\s+at /, 'no stack traces');
      assert.equal(w.log().match(/Redis unreachable/g)!.length, 1, 'one line per outage');
      await assertSameOutput(out);
      w.proc.kill('SIGTERM');
      assert.equal(await w.exited, 0);
    } finally {
      await rq.close();
      redis.kill('SIGTERM');
    }
  });

  test('a task that keeps failing ends in the failed set; status shows its error and `status --wait` exits non-zero', async () => {
    const t = target(`{rq-fail-${process.pid}}`);
    const { rq, run } = await submit(t, await writePipeline('fail', { fail_ids: ['s2-d1'] }), { attempts: 2, backoff: 100 });
    try {
      const w = startWorker(t, '-c', '2');
      const waiting = cli(['status', run, '--redis', t.redis, '--queue', t.queue, '--prefix', t.prefix, '--wait', '--interval', '0.2']);
      const s = await until('the run to end', ended(rq, run), [w]);
      assert.equal(s.state, 'failed');
      assert.equal(s.failures.length, 1);
      assert.deepEqual({ ...s.failures[0]!, error: '' }, { task: 'process-0-00002', attempts: 2, maxAttempts: 2, error: '' });
      assert.match(s.failures[0]!.error, /deliberate failure of the task holding s2-d1/);
      assert.equal(s.phases[0]!.failed, 1);
      const wait = await waiting;
      assert.equal(wait.code, 1);
      assert.match(wait.stdout, /FAILED process-0-00002 after 2 of 2 attempts: .*s2-d1/);
      assert.match(wait.stderr, /run [0-9a-f]+ failed/);

      // Submitting the failed run again queues it again; the tasks that finished are not redone.
      await until('the other tasks to end', async () => (await rq.queue.getActiveCount()) === 0, [w]);
      const again = await submitRun(rq, await loadPipelineFile(join(dir, 'fail.yaml')), { force: false, retry: { attempts: 1, backoff: 100 } });
      assert.deepEqual(again, { run, outcome: 'resubmitted' });
      assert.equal((await until('the run to end again', ended(rq, run), [w])).state, 'failed');
      assert.match(w.log(), /process-0-00000: finished earlier \(marker found\), skipped/);
      assert.match(w.log(), /process-0-00001: finished earlier \(marker found\), skipped/);
      w.proc.kill('SIGTERM');
      assert.equal(await w.exited, 0);
    } finally {
      await rq.close();
    }
  });

  test('SIGTERM during a task: the worker hands the task back and exits 0; another worker completes the run', async () => {
    const t = target(`{rq-term-${process.pid}}`);
    const { rq, run, out } = await submit(t, await writePipeline('term', { ms_per_doc: 60 }));
    try {
      await rq.queue.pause();
      const a = startWorker(t, '-c', '1', '--grace', '0.3');
      const b = startWorker(t, '-c', '2');
      await until('worker A to start', async () => a.log().includes('working on queue'), [a]);
      await rq.queue.resume();
      await until('a task of worker A in the middle of writing', writing(out, a.proc.pid), [a]);
      a.proc.kill('SIGTERM');
      assert.equal(await a.exited, 0);
      const task = a.log().match(/(process-0-\d+): handed back/)?.[1];
      assert.ok(task, a.log());
      const s = await until('the run to end', ended(rq, run), [a, b]);
      assert.equal(s.state, 'completed');
      // Handed back, not failed: the next worker starts it as its first attempt.
      assert.match(b.log(), new RegExp(`${task}: started \\(attempt 1 of 3\\)`));
      await assertSameOutput(out);
      b.proc.kill('SIGTERM');
      assert.equal(await b.exited, 0);
    } finally {
      await rq.close();
    }
  });
});
