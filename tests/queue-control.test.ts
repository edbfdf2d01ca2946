/**
 * Run control, workers and metrics on a real Redis with real worker processes: `refinery runs`,
 * `pause` / `resume`, `cancel`, `workers`, a killed worker's task shown as orphaned with its last
 * owner until another worker takes it, JSON logs, and the Prometheus metrics of a worker scraped
 * while it runs a task. The pipelines use the slow `sleepy` stage of tests/fixtures/queue/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, startCli, until, type CliProcess } from './cli-processes.ts';
import { fileURLToPath } from 'node:url';
import { loadPipelineFile } from '../pipeline/config.ts';
import { RunQueue } from '../pipeline/queue/run-queue.ts';
import { submitRun } from '../pipeline/queue/submit.ts';
import { runStatus, type RunStatus } from '../pipeline/queue/status.ts';
import type { QueueTarget } from '../pipeline/queue/connection.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { deletePrefixes, freePort, TEST_REDIS } from './redis-fixture.ts';
import { main } from '../bin/cli.ts';

registerBuiltinStages();

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PLUGIN = join(ROOT, 'tests', 'fixtures', 'queue', 'test-stages.ts');
const SHARDS = 3;
/** Several batches of documents per shard, so that a task reports its progress before it ends. */
const DOCS = 160;

let dir: string;
const prefixes: string[] = [];
const children: ChildProcess[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'refinery-queue-control-'));
  await mkdir(join(dir, 'input'));
  for (let s = 0; s < SHARDS; s++) {
    const lines = Array.from({ length: DOCS }, (_, i) => JSON.stringify({ id: `s${s}-d${i}`, text: `ordinary text of shard ${s}, line ${i}` }));
    await writeFile(join(dir, 'input', `part-${s}.jsonl`), `${lines.join('\n')}\n`);
  }
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await deletePrefixes(prefixes);
  await rm(dir, { recursive: true, force: true });
});

async function writePipeline(name: string, msPerDoc: number): Promise<string> {
  const file = join(dir, `${name}.yaml`);
  await writeFile(file, ['inputs: input/*.jsonl', `output: out-${name}`, `plugins: [${JSON.stringify(PLUGIN)}]`, 'stages:', '  - stage: sleepy', `    options: { ms_per_doc: ${msPerDoc} }`, ''].join('\n'));
  return file;
}

function target(name: string): QueueTarget {
  const prefix = `{rq-control-${name}-${process.pid}}`;
  prefixes.push(prefix);
  return { redis: TEST_REDIS, queue: 'runs', prefix, cluster: false };
}

const targetArgs = (t: QueueTarget) => ['--redis', t.redis, '--queue', t.queue, '--prefix', t.prefix];

type WorkerProcess = CliProcess;

function startWorker(t: QueueTarget, ...extra: string[]): WorkerProcess {
  return startCli(dir, ['worker', ...targetArgs(t), '-c', '1', '--heartbeat', '0.2', ...extra], children);
}

/**
 * The command run in this process (a new process would load for seconds on a busy machine,
 * longer than the tasks it looks at): its exit code and what it wrote.
 */
async function refinery(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const [writeOut, writeErr] = [process.stdout.write.bind(process.stdout), process.stderr.write.bind(process.stderr)];
  process.stdout.write = ((chunk: string | Uint8Array) => out.push(String(chunk)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => err.push(String(chunk)) > 0) as typeof process.stderr.write;
  try {
    const code = await main(['node', 'refinery', ...args]);
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = writeOut;
    process.stderr.write = writeErr;
  }
}

const cli = (args: string[]) => runCli(dir, args);


async function statusOf(rq: RunQueue, run: string): Promise<RunStatus> {
  const rec = await rq.records.get(run);
  assert.ok(rec, `run ${run} is recorded`);
  return runStatus(rq, rec);
}

/** Waits for the run to leave `running`, then stops the worker (which exits 0) and gives the run's final state. */
async function finalState(rq: RunQueue, run: string, w: WorkerProcess): Promise<string> {
  const s = await until('the run to end', async () => {
    const x = await statusOf(rq, run);
    return x.state === 'running' ? null : x;
  }, [w]);
  w.proc.kill('SIGTERM');
  assert.equal(await w.exited, 0);
  return s.state;
}

async function submit(t: QueueTarget, pipeline: string): Promise<{ rq: RunQueue; run: string }> {
  const rq = RunQueue.open(t);
  const { run } = await submitRun(rq, await loadPipelineFile(pipeline), { force: true, retry: { attempts: 3, backoff: 100 } });
  return { rq, run };
}

/** One sample of a Prometheus text exposition: the value of `name` with exactly these labels (0 when absent). */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

describe('run control on worker processes', () => {
  test('runs, pause and resume, workers, JSON logs and metrics scraped while a task runs', async () => {
    const t = target('pause');
    const { rq, run } = await submit(t, await writePipeline('pause', 25));
    try {
      const port = await freePort();
      const w = startWorker(t, '--metrics-port', String(port), '--log-format', 'json');
      const running = await until('a task to be in flight', async () => {
        const s = await statusOf(rq, run);
        return s.held.length > 0 && s.docs > 0 ? s : null;
      }, [w]);
      assert.equal(running.state, 'running');
      assert.equal(running.held[0]!.host, hostname());
      assert.equal(running.held[0]!.pid, w.proc.pid);
      assert.equal(running.held[0]!.orphaned, false);
      assert.ok(running.inputBytes > 0 && running.inputRead > 0 && running.inputRead < running.inputBytes, JSON.stringify(running));

      // Metrics during a task: it is in flight, and documents are counted as it reads them, before it ends.
      const during = await until('a scrape in the middle of a task', async () => {
        const text = await scrape(port).catch(() => null);
        if (text === null) return null;
        const finished = sample(text, 'refinery_tasks_total', 'kind="process",outcome="done"');
        return sample(text, 'refinery_tasks_in_flight') === 1 && sample(text, 'refinery_documents_read_total') > finished * DOCS ? text : null;
      }, [w]);
      assert.ok(sample(during, 'refinery_text_bytes_read_total') > 0, during);
      assert.match(during, /^# TYPE refinery_task_seconds histogram$/m);

      const runs = await refinery(['runs', ...targetArgs(t)]);
      assert.equal(runs.code, 0, runs.stderr);
      assert.match(runs.stdout, new RegExp(`^${run}\\s+running\\s+\\d+/${SHARDS} tasks, input \\d+% of`, 'm'));

      const workers = await refinery(['workers', ...targetArgs(t)]);
      assert.equal(workers.code, 0, workers.stderr);
      assert.match(workers.stdout, new RegExp(`^${hostname()}:${w.proc.pid}  working, heartbeat \\d+ s ago  1 thread\\(s\\)`, 'm'));
      assert.match(workers.stdout, new RegExp(`^  ${run} process-0-0000\\d for \\d+ s$`, 'm'));

      // Paused: the task in flight finishes, no other starts.
      const paused = await refinery(['pause', run, ...targetArgs(t)]);
      assert.equal(paused.code, 0, paused.stderr);
      // On a busy machine the task seen above may have ended already: then none is in flight.
      assert.match(paused.stderr, new RegExp(`paused run ${run}(; 1 task\\(s\\) in flight finish)?$`, 'm'));
      assert.equal((await statusOf(rq, run)).state, 'paused');
      await until('the task in flight to end', async () => (await statusOf(rq, run)).held.length === 0, [w]);
      await sleep(1500);
      const still = await statusOf(rq, run);
      assert.equal(still.held.length, 0, 'no task started while paused');
      assert.ok(still.phases[0]!.done < SHARDS);
      const status = await refinery(['status', run, ...targetArgs(t)]);
      assert.match(status.stdout, new RegExp(`^run ${run}: paused`, 'm'));

      const resumed = await refinery(['resume', run, ...targetArgs(t)]);
      assert.equal(resumed.code, 0, resumed.stderr);
      assert.match(resumed.stderr, /resumed run [0-9a-f]+; \d+ task\(s\) queued again/);
      const wait = await cli(['status', run, ...targetArgs(t), '--wait', '--interval', '0.2']);
      assert.equal(wait.code, 0, wait.stderr);
      assert.match(wait.stdout, /: completed/);
      assert.ok(wait.stdout.split('\n').length < 20, wait.stdout);

      const end = await scrape(port);
      assert.equal(sample(end, 'refinery_tasks_total', 'kind="process",outcome="done"'), SHARDS, end);
      assert.ok(sample(end, 'refinery_tasks_total', 'kind="process",outcome="paused"') >= 1, end);
      assert.equal(sample(end, 'refinery_documents_read_total'), SHARDS * DOCS, end);
      assert.equal(sample(end, 'refinery_tasks_in_flight'), 0);
      assert.equal(sample(end, 'refinery_task_seconds_count', 'kind="process"'), SHARDS);

      // Logs: one JSON object a line, with level, time, run and task.
      const lines = w.log().trim().split('\n').map((l) => JSON.parse(l) as { level: number; time: number; msg: string; run?: string; task?: string });
      const started = lines.filter((l) => l.msg.startsWith('started'));
      assert.equal(started.length, SHARDS);
      for (const l of started) {
        assert.equal(l.level, 30);
        assert.equal(l.run, run);
        assert.match(l.task ?? '', /^process-0-0000\d$/);
        assert.ok(Math.abs(l.time - Date.now()) < 120_000);
      }
      w.proc.kill('SIGTERM');
      assert.equal(await w.exited, 0);
      // A worker that stopped cleanly leaves no record behind.
      assert.match((await refinery(['workers', ...targetArgs(t)])).stdout, /no workers on this queue/);
    } finally {
      await rq.close();
    }
  });

  test('cancel stops the task in flight and removes the others; `status --wait` exits 1; submitting again queues the run', async () => {
    const t = target('cancel');
    const pipeline = await writePipeline('cancel', 60);
    const { rq, run } = await submit(t, pipeline);
    try {
      const w = startWorker(t);
      await until('a task to be in flight', async () => (await statusOf(rq, run)).docs > 0, [w]);
      const waiting = cli(['status', run, ...targetArgs(t), '--wait', '--interval', '0.2']);
      const cancelled = await refinery(['cancel', run, ...targetArgs(t)]);
      assert.equal(cancelled.code, 0, cancelled.stderr);
      assert.match(cancelled.stderr, new RegExp(`cancelled run ${run}$`, 'm'));
      const wait = await waiting;
      assert.equal(wait.code, 1);
      assert.match(wait.stderr, new RegExp(`run ${run} was cancelled`));
      assert.match(w.log(), /process-0-0000\d: stopped: its run was cancelled/);
      const s = await statusOf(rq, run);
      assert.equal(s.state, 'cancelled');
      assert.ok(s.phases[0]!.done < SHARDS);
      assert.equal(await rq.queue.getJob(`${run}.phase-0`), undefined, 'its jobs are removed');
      assert.match((await refinery(['runs', ...targetArgs(t)])).stdout, new RegExp(`^${run}\\s+cancelled`, 'm'));

      const again = await submitRun(rq, await loadPipelineFile(pipeline), { force: false, retry: { attempts: 3, backoff: 100 } });
      assert.deepEqual(again, { run, outcome: 'resubmitted' });
      assert.equal(await finalState(rq, run, w), 'completed');
    } finally {
      await rq.close();
    }
  });

  test('a worker killed with kill -9: its task shows as orphaned with its last owner until another worker takes it', async () => {
    const t = target('orphan');
    const { rq, run } = await submit(t, await writePipeline('orphan', 40));
    try {
      const a = startWorker(t, '--lock-duration', '4000', '--stalled-interval', '1000');
      const held = await until('a task of worker A in flight', async () => (await statusOf(rq, run)).held.find((h) => h.pid === a.proc.pid), [a]);
      a.proc.kill('SIGKILL');
      assert.equal(await a.exited, null);
      // Three missed heartbeats (0.2 s each) later, the task is orphaned, its last owner named.
      const orphan = await until('the task to show as orphaned', async () => (await statusOf(rq, run)).held.find((h) => h.orphaned), [a], 10_000);
      assert.deepEqual({ task: orphan.task, host: orphan.host, pid: orphan.pid }, { task: held.task, host: hostname(), pid: a.proc.pid });
      const status = await refinery(['status', run, ...targetArgs(t)]);
      assert.match(status.stdout, new RegExp(`^ORPHANED ${held.task}: its worker ${hostname()}:${a.proc.pid} sent no heartbeat for \\d+ s`, 'm'));
      const workers = await refinery(['workers', ...targetArgs(t)]);
      assert.match(workers.stdout, new RegExp(`^${hostname()}:${a.proc.pid}  LOST \\(no heartbeat for \\d+ s\\)`, 'm'));
      assert.match(workers.stdout, new RegExp(`^  ${run} ${held.task} for \\d+ s  ORPHANED`, 'm'));

      const b = startWorker(t, '--lock-duration', '4000', '--stalled-interval', '1000');
      await until('worker B to take the orphaned task', async () => (await statusOf(rq, run)).held.find((h) => h.task === held.task && h.pid === b.proc.pid && !h.orphaned), [b]);
      assert.equal((await statusOf(rq, run)).held.filter((h) => h.orphaned).length, 0);
      assert.equal(await finalState(rq, run, b), 'completed');
    } finally {
      await rq.close();
    }
  });
});
