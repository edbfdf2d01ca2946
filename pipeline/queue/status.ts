/**
 * `refinery status`: a run's progress per phase, throughput and failures, read from the phase
 * jobs (a completed phase job means its phase is done; otherwise its children's counts tell) and
 * from the queue's active, delayed (waiting to retry) and failed jobs of the run.
 */
import type { Job } from 'bullmq';
import { phaseJobId, type JobData } from './jobs.ts';
import type { RunQueue } from './run-queue.ts';
import type { RunRecord } from './run-record.ts';

export type RunState = 'running' | 'completed' | 'failed';

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
  /** Tasks that ended in the failed set. */
  failures: TaskProblem[];
  /** Tasks that failed an attempt and wait to be retried. */
  retrying: TaskProblem[];
}

/** Completed, failed or running, from the phase jobs. */
export async function runState(rq: RunQueue, rec: RunRecord): Promise<RunState> {
  if (rec.finishedAt !== null) return 'completed';
  const states = await Promise.all(rec.plan.phases.map((_, p) => rq.queue.getJobState(phaseJobId(rec.run, p))));
  if (states.includes('failed')) return 'failed';
  return states[states.length - 1] === 'completed' ? 'completed' : 'running';
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
  for (const j of active) {
    const p = j.progress as { docs?: number; bytes?: number } | undefined;
    if (j.data.kind === 'task' && j.data.phase === 0 && typeof p === 'object' && p) {
      docs += p.docs ?? 0;
      bytes += p.bytes ?? 0;
    }
  }
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
    failures: failed.filter(ownFailure).map(problem),
    retrying: delayed.filter(ownFailure).map(problem),
  };
}

const pad = (s: string | number, n: number) => String(s).padStart(n);

export function formatStatus(s: RunStatus, now = Date.now()): string {
  const lines: string[] = [];
  const end = s.finishedAt ?? now;
  const secs = s.startedAt ? Math.max(0.001, (end - s.startedAt) / 1000) : 0;
  lines.push(`run ${s.run}: ${s.state}`);
  lines.push(`pipeline ${s.pipeline}; output ${s.output}`);
  lines.push(`submitted ${new Date(s.submittedAt).toISOString()}${s.startedAt ? `; running for ${secs.toFixed(1)} s` : '; no task started yet'}${s.finishedAt ? ' (finished)' : ''}`);
  lines.push('');
  const named = (p: PhaseStatus) => (p.rounds === undefined ? p.name : `${p.name} (${p.rounds} round${p.rounds === 1 ? '' : 's'})`);
  const w = Math.max(5, ...s.phases.map((p) => named(p).length));
  lines.push(`${'phase'.padEnd(w)}  ${pad('tasks', 6)}  ${pad('waiting', 7)}  ${pad('active', 6)}  ${pad('done', 6)}  ${pad('failed', 6)}`);
  for (const p of s.phases) lines.push(`${named(p).padEnd(w)}  ${pad(p.tasks, 6)}  ${pad(p.waiting, 7)}  ${pad(p.active, 6)}  ${pad(p.done, 6)}  ${pad(p.failed, 6)}`);
  lines.push('');
  if (secs > 0) lines.push(`read ${s.docs} documents (${(s.bytes / 1e6).toFixed(1)} MB): ${Math.round(s.docs / secs)} docs/s, ${(s.bytes / 1e6 / secs).toFixed(2)} MB/s`);
  for (const f of s.failures) lines.push(`FAILED ${f.task} after ${f.attempts} of ${f.maxAttempts} attempts: ${f.error}`);
  for (const f of s.retrying) lines.push(`retrying ${f.task} (attempt ${f.attempts} of ${f.maxAttempts} failed): ${f.error}`);
  return lines.join('\n');
}
