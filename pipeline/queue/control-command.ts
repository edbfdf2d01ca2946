/**
 * CLI of run control on a queue: `refinery runs` (every run with its state and progress),
 * `refinery cancel <run>`, `refinery pause <run>` / `refinery resume <run>`, and `refinery workers`
 * (each worker, its host, heartbeat age and the tasks it holds).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { RefineryError } from '../errors.ts';
import { formatBytes, formatSeconds } from '../engine/progress.ts';
import { withinTime } from './connection.ts';
import { phaseJobId } from './jobs.ts';
import { RunQueue } from './run-queue.ts';
import type { RunRecord } from './run-record.ts';
import { hasEnded, runStatus, type RunStatus } from './status.ts';
import { targetOf, timeoutOption, withTarget, type TargetOptions } from './target-options.ts';
import { isLost, listWorkers, redisNow, type WorkerRecord } from './worker-registry.ts';

type Options = TargetOptions & { timeout: number };

/** Opens the queue, waits for Redis, runs `work` bounded by the timeout, closes. */
async function withQueue<T>(o: Options, work: (rq: RunQueue) => Promise<T>): Promise<T> {
  const target = targetOf(o);
  const rq = RunQueue.open(target);
  try {
    await rq.ready(o.timeout);
    return await withinTime(work(rq), target, o.timeout);
  } finally {
    await rq.close();
  }
}

async function requireRun(rq: RunQueue, run: string): Promise<RunRecord> {
  const rec = await rq.records.get(run);
  if (rec) return rec;
  throw new RefineryError(`no run ${run} in queue ${rq.target.queue} (prefix ${rq.target.prefix}) at ${rq.target.redis}; \`refinery runs\` lists the runs`);
}

/** `done/total tasks`, and the input read as a percentage when the run recorded its input's size. */
function progressOf(s: RunStatus): string {
  const tasks = s.phases.reduce((a, p) => a + p.tasks, 0);
  // A cancelled run's jobs are removed: its record still counts the tasks that ran.
  const done = Math.max(s.tasksDone, s.phases.reduce((a, p) => a + p.done, 0));
  const input = s.inputBytes > 0 ? `, input ${Math.floor((100 * s.inputRead) / s.inputBytes)}% of ${formatBytes(s.inputBytes)}` : '';
  return `${done}/${tasks} tasks${input}`;
}

export function formatRuns(statuses: RunStatus[]): string {
  if (statuses.length === 0) return 'no runs on this queue';
  const rows = statuses.map((s) => [s.run, s.state, progressOf(s), new Date(s.submittedAt).toISOString().slice(0, 19).replace('T', ' '), `${s.pipeline} → ${s.output}`]);
  const head = ['run', 'state', 'progress', 'submitted (UTC)', 'pipeline → output'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

export function formatWorkers(workers: WorkerRecord[], now: number, orphaned: Set<string>): string {
  if (workers.length === 0) return 'no workers on this queue';
  const lines: string[] = [];
  for (const w of workers) {
    const age = formatSeconds(Math.max(0, now - w.seenAt) / 1000);
    const state = isLost(w, now) ? `LOST (no heartbeat for ${age})` : `${w.tasks.length ? 'working' : 'idle'}, heartbeat ${age} ago`;
    lines.push(`${w.host}:${w.pid}  ${state}  ${w.concurrency} thread(s), up ${formatSeconds((now - w.startedAt) / 1000)}  [${w.id}]`);
    for (const t of w.tasks) {
      const tag = isLost(w, now) ? (orphaned.has(t.job) ? '  ORPHANED: no worker has taken it again yet' : '  (taken again or ended since)') : '';
      lines.push(`  ${t.run} ${t.task} for ${formatSeconds(Math.max(0, now - t.since) / 1000)}${tag}`);
    }
  }
  return lines.join('\n');
}

/** Removes the jobs of a run that no worker holds; true when none is left. */
async function removeJobs(rq: RunQueue, run: string): Promise<boolean> {
  const rec = await rq.records.get(run);
  if (!rec) return true;
  let left = false;
  for (let p = rec.plan.phases.length - 1; p >= 0; p--) {
    const id = phaseJobId(run, p);
    // BullMQ refuses to remove a job (or a parent of one) that a worker holds: it is left for the next try.
    await rq.queue.remove(id, { removeChildren: true }).catch(() => 0);
    if (await rq.queue.getJob(id)) left = true;
  }
  return !left;
}

/** Every run on the queue, oldest first, as `refinery runs` prints them. */
async function runsTable(rq: RunQueue): Promise<string> {
  const statuses: RunStatus[] = [];
  for (const run of await rq.records.list()) {
    const rec = await rq.records.get(run);
    if (rec) statuses.push(await runStatus(rq, rec));
  }
  return formatRuns(statuses.sort((a, b) => a.submittedAt - b.submittedAt));
}

/** Every worker of the queue, as `refinery workers` prints them: a lost worker's tasks that no live worker took are orphaned. */
async function workersTable(rq: RunQueue): Promise<string> {
  const [workers, now] = await Promise.all([listWorkers(rq.client, rq.target), redisNow(rq.client)]);
  const liveJobs = new Set(workers.filter((w) => !isLost(w, now)).flatMap((w) => w.tasks.map((t) => t.job)));
  const orphaned = new Set<string>();
  for (const w of workers.filter((x) => isLost(x, now))) {
    for (const t of w.tasks) {
      if (liveJobs.has(t.job)) continue;
      const state = await rq.queue.getJobState(t.job);
      if (state === 'active' || state === 'waiting' || state === 'prioritized') orphaned.add(t.job);
    }
  }
  return formatWorkers(workers, now, orphaned);
}

/** A command that talks to a queue: the target's options, `--timeout`, and the run it acts on when it takes one. */
function queueCommand(program: Command, name: string, description: string, takesRun: boolean): Command {
  const command = program.command(name).description(description);
  if (takesRun) command.argument('<run>', 'run id printed by `refinery submit`');
  return withTarget(command.option(...timeoutOption));
}

export function registerControlCommands(program: Command): void {
  queueCommand(program, 'runs', 'List the runs on a queue with their state (running, paused, completed, failed, cancelled) and progress.', false).action(async (o: Options) => {
    process.stdout.write(`${await withQueue(o, runsTable)}\n`);
  });

  queueCommand(
    program,
    'cancel',
    'Cancel a queued run: its waiting tasks are removed, workers stop its tasks in flight at their next heartbeat, nothing is retried. `refinery submit` queues it again (finished tasks are kept).',
    true,
  ).action(async (run: string, o: Options) => {
    const message = await withQueue({ ...o, timeout: o.timeout * 2 }, async (rq) => {
      const status = await runStatus(rq, await requireRun(rq, run));
      if (status.state === 'completed') throw new RefineryError(`run ${run} has completed; there is nothing to cancel`);
      await rq.records.cancel(run);
      // Tasks in flight hold their jobs until their workers stop them (at the next heartbeat).
      const end = Date.now() + o.timeout * 1000;
      while (!(await removeJobs(rq, run))) {
        if (Date.now() > end) return `refinery: cancelled run ${run}; tasks in flight are stopping (\`refinery status ${run}\` shows them)`;
        await sleep(250);
      }
      return `refinery: cancelled run ${run}`;
    });
    process.stderr.write(`${message}\n`);
  });

  for (const [name, pausing] of [['pause', true], ['resume', false]] as const) {
    queueCommand(
      program,
      name,
      pausing ? 'Pause a queued run: workers start none of its tasks (its tasks in flight finish) until `refinery resume`.' : 'Resume a paused run: its tasks are taken again at once.',
      true,
    ).action(async (run: string, o: Options) => {
      const message = await withQueue(o, async (rq) => {
        const status = await runStatus(rq, await requireRun(rq, run));
        if (hasEnded(status.state)) throw new RefineryError(`run ${run} has ${status.state === 'cancelled' ? 'been cancelled' : status.state}; there is nothing to ${name}`);
        if (pausing) {
          await rq.records.pause(run);
          const active = status.held.filter((h) => !h.orphaned).length;
          return `refinery: paused run ${run}${active ? `; ${active} task(s) in flight finish` : ''}`;
        }
        await rq.records.resume(run);
        // Tasks put back while the run was paused wait in the delayed set: start them now.
        let promoted = 0;
        for (const job of await rq.queue.getDelayed()) {
          if (job.data.run === run && job.data.kind === 'task' && job.attemptsMade === 0) {
            await job.promote().catch(() => {});
            promoted++;
          }
        }
        return `refinery: resumed run ${run}${promoted ? `; ${promoted} task(s) queued again` : ''}`;
      });
      process.stderr.write(`${message}\n`);
    });
  }

  queueCommand(
    program,
    'workers',
    'List the workers of a queue: host, pid, heartbeat age, threads and the tasks each holds; a lost worker (no heartbeat for 3 beats) with the tasks it held, orphaned until another worker takes them.',
    false,
  ).action(async (o: Options) => {
    process.stdout.write(`${await withQueue(o, workersTable)}\n`);
  });
}
