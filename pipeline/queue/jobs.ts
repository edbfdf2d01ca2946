/**
 * How a run becomes BullMQ jobs. Each phase of the plan is one flow: a parent "phase" job whose
 * children are the phase's tasks. BullMQ processes a parent only after all its children have
 * completed, so the phase job is the barrier; when it runs it adds the next phase's flow, and the
 * last one finishes the run (stats.json, report.md). A flow cannot express "every task of phase
 * p+1 waits for every task of phase p" statically (a job has one parent), hence one flow per phase.
 *
 * A repeating phase (rounds until a round leaves no work) keeps one phase job: when a round's
 * tasks are done and left work, the phase job adds the next round's tasks as its own children and
 * waits for them again (`roundJobs`), so `refinery status` and removal see one phase.
 *
 * Job ids are derived from the run id and the task id, so submitting a run twice adds nothing.
 */
import type { FlowJob, JobsOptions } from 'bullmq';
import { roundTasks, taskId, type RunPlan, type Task } from '../engine/run-plan.ts';

export type JobData = { kind: 'task'; run: string; phase: number; task: Task } | { kind: 'phase'; run: string; phase: number };

/** How task jobs are retried; stored with the run so that later phases get the same. */
export interface RetryPolicy {
  attempts: number;
  /** First retry delay in ms; doubled at each further attempt. */
  backoff: number;
}

/** The run id: the plan's config hash, which covers the config (output folder included) and the input shards. */
export const runIdOf = (plan: RunPlan): string => plan.configHash;

export const taskJobId = (run: string, t: Task): string => `${run}.${taskId(t)}`;
export const phaseJobId = (run: string, phase: number): string => `${run}.phase-${phase}`;

/** Completed task jobs are kept for a week (status and duplicate detection), then removed. */
const KEEP_COMPLETED_SECONDS = 7 * 24 * 3600;

export function phaseFlow(plan: RunPlan, run: string, phase: number, queueName: string, retry: RetryPolicy): FlowJob {
  const p = plan.phases[phase]!;
  return {
    name: `phase ${phase}: ${p.name}`,
    queueName,
    data: { kind: 'phase', run, phase } satisfies JobData,
    opts: { jobId: phaseJobId(run, phase), attempts: retry.attempts, backoff: { type: 'exponential', delay: retry.backoff } },
    children: p.tasks.map((task) => ({ name: taskId(task), queueName, data: { kind: 'task', run, phase, task } satisfies JobData, opts: taskJobOptions(run, task, retry) })),
  };
}

function taskJobOptions(run: string, task: Task, retry: RetryPolicy): JobsOptions {
  return {
    jobId: taskJobId(run, task),
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoff },
    // A task that keeps failing fails its phase, hence the run; `refinery status` shows why.
    failParentOnFailure: true,
    removeOnComplete: { age: KEEP_COMPLETED_SECONDS },
  };
}

/** The task jobs of round `round` of a repeating phase, as children of its phase job (`parent`). */
export function roundJobs(plan: RunPlan, run: string, phase: number, round: number, retry: RetryPolicy, parent: { id: string; queue: string }) {
  return roundTasks(plan.phases[phase]!, round).map((task) => ({
    name: taskId(task),
    data: { kind: 'task', run, phase, task } satisfies JobData as JobData,
    opts: { ...taskJobOptions(run, task, retry), parent },
  }));
}
