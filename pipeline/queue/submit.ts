/** `refinery submit`: plans a run, records it in Redis and queues its first phase. */
import type { RunConfig } from '../config.ts';
import { makePlan } from '../engine/run.ts';
import { storeOf } from '../engine/markers.ts';
import { redactUrl } from '../secrets.ts';
import { runIdOf, type RetryPolicy } from './jobs.ts';
import type { RunQueue } from './run-queue.ts';
import { runState } from './status.ts';
import { shardBytes } from '../engine/progress.ts';

export type SubmitOutcome = 'submitted' | 'already submitted' | 'already completed' | 'resubmitted';

export interface SubmitOptions {
  /** Drop the run's jobs and outputs and start it again. */
  force: boolean;
  retry: RetryPolicy;
  /** Write report/ at the end, as `refinery run` does (default true). */
  report?: boolean;
}

/**
 * Submitting the run that is queued or running already adds nothing; submitting one that failed
 * or was cancelled queues it again (tasks that finished are skipped by their markers); `force` starts afresh.
 */
export async function submitRun(rq: RunQueue, config: RunConfig, opts: SubmitOptions): Promise<{ run: string; outcome: SubmitOutcome }> {
  const plan = await makePlan(config);
  const run = runIdOf(plan);
  let outcome: SubmitOutcome = 'submitted';
  const existing = await rq.records.get(run);
  if (existing) {
    const state = await runState(rq, existing);
    if (!opts.force && state !== 'failed' && state !== 'cancelled') return { run, outcome: state === 'completed' ? 'already completed' : 'already submitted' };
    await rq.removeRun(plan, run);
    if (!opts.force) outcome = 'resubmitted';
  }
  const { redis, queue, prefix } = rq.target;
  await (await storeOf(config)).prepare(plan, opts.force, { run, redis: redactUrl(redis), queue, prefix });
  if (!(await rq.records.create(run, plan, opts.retry, opts.report ?? true, await shardBytes(plan)))) return { run, outcome: 'already submitted' };
  await rq.addPhase(plan, run, 0, opts.retry);
  return { run, outcome };
}
