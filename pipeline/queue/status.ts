/**
 * `refinery status`: a run's progress per phase, throughput and failures, read from the phase
 * jobs (a completed phase job means its phase is done; otherwise its children's counts tell) and
 * from the queue's active, delayed (waiting to retry) and failed jobs of the run; which worker
 * holds each task in flight, from the workers' records (worker-registry.ts).
 */
import type { Job } from 'bullmq';
import { phaseJobId, type JobData } from './jobs.ts';
import type { RunQueue } from './run-queue.ts';
import type { RunRecord } from './run-record.ts';
import { isLost, listWorkers, redisNow, type WorkerRecord } from './worker-registry.ts';
import { bar, formatBytes, formatSeconds, inputLine, InputEstimate } from '../engine/progress.ts';

export type RunState = 'running' | 'paused' | 'completed' | 'failed' | 'cancelled';

/** A run in one of these states has no work left to do (until it is submitted again). */
export const hasEnded = (state: RunState): boolean => state === 'completed' || state === 'failed' || state === 'cancelled';

/** A task in flight, or one a lost worker held that no worker has taken again yet. */
export interface HeldTaskStatus {
  task: string;
  host: string;
  pid: number;
  /** ms since the worker's last heartbeat. */
  heartbeatAge: number;
  /** Its worker is lost (no heartbeat for LOST_AFTER_BEATS beats): the task is orphaned until another worker takes it. */
  orphaned: boolean;
}

export interface PhaseStatus {
  name: string;
  tasks: number;
  /** Not yet started, including tasks of phases not queued yet and tasks waiting to be retried. */
  waiting: number;
  active: number;
  done: number;
  failed: number;
  /** A repeating phase: rounds queued so far (`tasks` then counts the tasks of all of them). */
  rounds?: number;
}

export interface TaskProblem {
  task: string;
  attempts: number;
  maxAttempts: number;
  error: string;
}

export interface RunStatus {
  run: string;
  pipeline: string;
  output: string;
  state: RunState;
  phases: PhaseStatus[];
  submittedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Documents and bytes read by finished tasks of the first phase, plus the progress of running ones. */
  docs: number;
  bytes: number;
  /** Bytes of the input files (0 when the run's record has none), and how many of them are read: exact for finished shards, estimated for shards being read. */
  inputBytes: number;
  inputRead: number;
  /** Tasks in flight with their workers, and orphaned tasks. */
  held: HeldTaskStatus[];
  /** Tasks that ran to the end (the record's count: it stays when a cancelled run's jobs are removed). */
  tasksDone: number;
  /** Tasks that ended in the failed set. */
  failures: TaskProblem[];
  /** Tasks that failed an attempt and wait to be retried. */
  retrying: TaskProblem[];
}

/** From the record (completed, cancelled, paused) and the phase jobs (failed, completed, running). */
export async function runState(rq: RunQueue, rec: RunRecord): Promise<RunState> {
  if (rec.finishedAt !== null) return 'completed';
  if (rec.cancelledAt !== null) return 'cancelled';
  const states = await Promise.all(rec.plan.phases.map((_, p) => rq.queue.getJobState(phaseJobId(rec.run, p))));
  if (states.includes('failed')) return 'failed';
  if (states[states.length - 1] === 'completed') return 'completed';
  return rec.pausedAt !== null ? 'paused' : 'running';
}

/**
 * The run's tasks that workers hold: each active job with the live worker that lists it, and each
 * job that a lost worker lists and that is still active or back in the queue, not yet taken by a
 * live worker (orphaned).
 */
async function heldTasks(rq: RunQueue, run: string, active: Job<JobData>[], workers: WorkerRecord[], now: number): Promise<HeldTaskStatus[]> {
  const live = new Map<string, WorkerRecord>();
  const lost = new Map<string, WorkerRecord>();
  for (const w of workers) for (const t of w.tasks) if (t.run === run) (isLost(w, now) ? lost : live).set(t.job, w);
  const held: HeldTaskStatus[] = [];
  const entry = (task: string, w: WorkerRecord, orphaned: boolean): HeldTaskStatus => ({ task, host: w.host, pid: w.pid, heartbeatAge: Math.max(0, now - w.seenAt), orphaned });
  for (const j of active) {
    const w = live.get(j.id ?? '');
    if (w) held.push(entry(j.name, w, false));
  }
  for (const [job, w] of lost) {
    if (live.has(job)) continue;
    const state = await rq.queue.getJobState(job);
    if (state === 'active' || state === 'waiting' || state === 'prioritized') held.push(entry(job.slice(run.length + 1), w, true));
  }
  return held.sort((a, b) => Number(b.orphaned) - Number(a.orphaned) || a.task.localeCompare(b.task));
}

const ofRun = (run: string) => (j: Job<JobData> | undefined): j is Job<JobData> => j !== undefined && j.data?.run === run;

/** A task's failure, or a phase job's own (such as finishing the run), not "a child failed". */
const ownFailure = (j: Job<JobData>) => j.data.kind === 'task' || !/^child .* failed$/.test(j.failedReason ?? '');

function problem(j: Job<JobData>): TaskProblem {
  return { task: j.name, attempts: j.attemptsMade, maxAttempts: j.opts.attempts ?? 1, error: j.failedReason ?? '' };
}

/** How many failed/delayed jobs `status` looks through (the newest first). */
const LIST_LIMIT = 1000;

export async function runStatus(rq: RunQueue, rec: RunRecord): Promise<RunStatus> {
  const { run, plan } = rec;
  const state = await runState(rq, rec);
  const [active, delayed, failed] = await Promise.all([
    rq.queue.getActive().then((js) => js.filter(ofRun(run))),
    rq.queue.getDelayed(0, LIST_LIMIT - 1).then((js) => js.filter(ofRun(run))),
    rq.queue.getFailed(0, LIST_LIMIT - 1).then((js) => js.filter(ofRun(run))),
  ]);
  const phases: PhaseStatus[] = [];
  for (const [p, phase] of plan.phases.entries()) {
    const s: PhaseStatus = { name: phase.name, tasks: phase.tasks.length, waiting: phase.tasks.length, active: 0, done: 0, failed: 0 };
    phases.push(s);
    const barrier = await rq.queue.getJob(phaseJobId(run, p));
    if (!barrier) continue;
    const mine = (j: Job<JobData>) => j.data.kind === 'task' && j.data.phase === p;
    s.active = active.filter(mine).length;
    s.failed = failed.filter(mine).length;
    const barrierState = await barrier.getState();
    if (phase.repeat) {
      // Each round's tasks are added as children of the same phase job: count them all.
      const c = await barrier.getDependenciesCount({ processed: true, unprocessed: true, failed: true });
      s.tasks = Math.max(s.tasks, (c.processed ?? 0) + (c.unprocessed ?? 0) + (c.failed ?? 0));
      s.rounds = Math.ceil(s.tasks / Math.max(1, phase.tasks.length));
      s.done = barrierState === 'completed' ? s.tasks : c.processed ?? 0;
    }
    // Until every child has completed, the phase job waits for children (or failed with one).
    else if (barrierState === 'waiting-children' || barrierState === 'failed') s.done = (await barrier.getDependenciesCount({ processed: true })).processed ?? 0;
    else s.done = s.tasks;
    s.waiting = Math.max(0, s.tasks - s.done - s.active - s.failed);
  }
  let docs = rec.docs;
  let bytes = rec.bytes;
  let liveText = 0;
  for (const j of active) {
    const p = j.progress as { docs?: number; bytes?: number } | undefined;
    if (j.data.kind === 'task' && j.data.phase === 0 && typeof p === 'object' && p) {
      docs += p.docs ?? 0;
      bytes += p.bytes ?? 0;
      liveText += p.bytes ?? 0;
    }
  }
  const input = new InputEstimate(rec.inputBytes, 1);
  input.finished(rec.inputDone, rec.bytes);
  const now = await redisNow(rq.client);
  const held = hasEnded(state) ? [] : await heldTasks(rq, run, active, await listWorkers(rq.client, rq.target), now);
  return {
    run,
    pipeline: plan.config.file,
    output: plan.config.output,
    state,
    phases,
    submittedAt: rec.submittedAt,
    startedAt: rec.startedAt,
    finishedAt: rec.finishedAt,
    docs,
    bytes,
    tasksDone: rec.tasksDone,
    inputBytes: rec.inputBytes,
    inputRead: phases[0]?.done === phases[0]?.tasks ? rec.inputBytes : input.read(liveText),
    held,
    failures: failed.filter(ownFailure).map(problem),
    retrying: delayed.filter(ownFailure).map(problem),
  };
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

/** An error's first line, cut to 300 characters: one line of the status each. */
const firstLine = (error: string) => {
  const line = error.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
};

/** At most `n` lines of `items`, then one saying how many more there are. */
function capped<T>(items: T[], n: number, line: (t: T) => string): string[] {
  const shown = items.length > n + 1 ? items.slice(0, n) : items;
  const out = shown.map(line);
  if (shown.length < items.length) out.push(`  … and ${items.length - shown.length} more`);
  return out;
}

/**
 * The status in at most about 20 lines whatever the run's size: phases that are done, and phases
 * not started yet, are counted on one line each; the phases under way get a row each; tasks in
 * flight, failures and retries are capped at a few lines each.
 */
export function formatStatus(s: RunStatus, now = Date.now()): string {
  const lines: string[] = [];
  const end = s.finishedAt ?? now;
  const secs = s.startedAt ? Math.max(0.001, (end - s.startedAt) / 1000) : 0;
  const took = s.state === 'completed' && s.finishedAt !== null ? ` in ${formatSeconds(secs)}` : s.startedAt ? `, started ${formatSeconds(secs)} ago` : ' (no task started yet)';
  lines.push(`run ${s.run}: ${s.state}${took} · submitted ${new Date(s.submittedAt).toISOString()}`);
  lines.push(`pipeline ${s.pipeline} → ${s.output}`);
  if (s.inputBytes > 0) lines.push(`input ${inputLine(s.inputRead, s.inputBytes, secs)}`);
  if (secs > 0) lines.push(`read ${s.docs} documents (${formatBytes(s.bytes)} of text): ${Math.round(s.docs / secs)} docs/s`);
  const named = (p: PhaseStatus) => (p.rounds === undefined ? p.name : `${p.name} (${p.rounds} round${p.rounds === 1 ? '' : 's'})`);
  const done = s.phases.filter((p) => p.done === p.tasks && p.tasks > 0);
  const started = (p: PhaseStatus) => p.done + p.active + p.failed > 0;
  const current = s.phases.filter((p) => !done.includes(p) && started(p));
  const later = s.phases.filter((p) => !done.includes(p) && !started(p));
  const phaseBar = (p: PhaseStatus) => `${bar(p.tasks ? p.done / p.tasks : 0, 12)} ${pad(p.done, 5)}/${p.tasks} done  ${pad(p.active, 3)} active  ${pad(p.waiting, 5)} waiting${p.failed ? `  ${p.failed} failed` : ''}`;
  const w = Math.max(5, ...[...current, ...later.slice(0, 1)].map((p) => named(p).length));
  const lastDone = done.at(-1);
  lines.push(`phases: ${done.length} of ${s.phases.length} done${lastDone ? ` (last: ${named(lastDone)})` : ''}`);
  for (const p of current.slice(0, 4)) lines.push(`  ${named(p).padEnd(w)}  ${phaseBar(p)}`);
  if (current.length > 4) lines.push(`  … and ${current.length - 4} more under way`);
  const next = later[0];
  if (next && !hasEnded(s.state)) lines.push(`  ${named(next).padEnd(w)}  next${later.length > 1 ? `, then ${later.length - 1} more phase${later.length === 2 ? '' : 's'}` : ''}`);
  const inFlight = s.held.filter((h) => !h.orphaned);
  const orphans = s.held.filter((h) => h.orphaned);
  const age = (ms: number) => formatSeconds(ms / 1000);
  if (inFlight.length) lines.push(`in flight: ${inFlight.slice(0, 3).map((h) => `${h.task} on ${h.host}:${h.pid}`).join(', ')}${inFlight.length > 3 ? ` and ${inFlight.length - 3} more` : ''}`);
  lines.push(...capped(orphans, 3, (h) => `ORPHANED ${h.task}: its worker ${h.host}:${h.pid} sent no heartbeat for ${age(h.heartbeatAge)}; back in the queue once its lock expires, until another worker takes it`));
  lines.push(...capped(s.failures, 3, (f) => `FAILED ${f.task} after ${f.attempts} of ${f.maxAttempts} attempts: ${firstLine(f.error)}`));
  lines.push(...capped(s.retrying, 3, (f) => `retrying ${f.task} (attempt ${f.attempts} of ${f.maxAttempts} failed): ${firstLine(f.error)}`));
  return lines.join('\n');
}
