/**
 * A submitted run's record in Redis, written once per run: the plan (so that job data stays a few
 * bytes), the retry policy of its tasks, and counters that `refinery status` turns into throughput.
 */
import type { RunPlan } from '../engine/run-plan.ts';
import type { RetryPolicy } from './jobs.ts';
import type { QueueTarget, RedisClient } from './connection.ts';
import { RefineryError } from '../errors.ts';

export type RunEnd = 'completed' | 'failed';

export interface RunRecord {
  run: string;
  plan: RunPlan;
  retry: RetryPolicy;
  submittedAt: number;
  /** When the first task started. */
  startedAt: number | null;
  finishedAt: number | null;
  /** Documents and bytes read by the finished tasks of the first phase. */
  docs: number;
  bytes: number;
  tasksDone: number;
}

export class RunRecords {
  private readonly plans = new Map<string, RunPlan>();

  constructor(
    private readonly client: RedisClient,
    private readonly target: QueueTarget,
  ) {}

  private key(run: string): string {
    return `${this.target.prefix}:${this.target.queue}:runs:${run}`;
  }

  /** Records a new run; false if a run with this id is recorded already. */
  async create(run: string, plan: RunPlan, retry: RetryPolicy, report = true): Promise<boolean> {
    const key = this.key(run);
    const created = await this.client.hsetnx(key, 'plan', JSON.stringify(plan));
    if (created === 0) return false;
    await this.client.hset(key, { retry: JSON.stringify(retry), report: report ? 1 : 0, submitted_at: Date.now(), docs: 0, bytes: 0, tasks_done: 0 });
    return true;
  }

  async get(run: string): Promise<RunRecord | null> {
    const h = await this.client.hgetall(this.key(run));
    if (!h.plan) return null;
    const num = (v: string | undefined) => (v === undefined ? null : Number(v));
    return {
      run,
      plan: JSON.parse(h.plan) as RunPlan,
      retry: JSON.parse(h.retry ?? '{"attempts":3,"backoff":10000}') as RetryPolicy,
      submittedAt: Number(h.submitted_at ?? 0),
      startedAt: num(h.started_at),
      finishedAt: num(h.finished_at),
      docs: Number(h.docs ?? 0),
      bytes: Number(h.bytes ?? 0),
      tasksDone: Number(h.tasks_done ?? 0),
    };
  }

  /** The run's plan, fetched once per process (a run id always names the same plan). */
  async plan(run: string): Promise<RunPlan> {
    const cached = this.plans.get(run);
    if (cached) return cached;
    const text = await this.client.hget(this.key(run), 'plan');
    if (!text) throw new RefineryError(`run ${run} is not recorded in ${this.target.prefix}:${this.target.queue} (it was removed, or Redis lost its data: submit the pipeline again)`);
    const plan = JSON.parse(text) as RunPlan;
    if (this.plans.size >= 16) this.plans.delete(this.plans.keys().next().value!);
    this.plans.set(run, plan);
    return plan;
  }

  async retry(run: string): Promise<RetryPolicy> {
    const text = await this.client.hget(this.key(run), 'retry');
    return text ? (JSON.parse(text) as RetryPolicy) : { attempts: 3, backoff: 10_000 };
  }

  /** Whether the run's last step writes the researcher report (report/). */
  async report(run: string): Promise<boolean> {
    return (await this.client.hget(this.key(run), 'report')) !== '0';
  }

  async taskStarted(run: string): Promise<void> {
    await this.client.hsetnx(this.key(run), 'started_at', Date.now());
  }

  async taskDone(run: string, docs: number, bytes: number): Promise<void> {
    const key = this.key(run);
    await this.client.multi().hincrby(key, 'tasks_done', 1).hincrby(key, 'docs', docs).hincrby(key, 'bytes', bytes).exec();
  }

  async finished(run: string): Promise<void> {
    await this.client.hset(this.key(run), 'finished_at', Date.now());
  }

  async remove(run: string): Promise<void> {
    this.plans.delete(run);
    await this.client.del(this.key(run));
  }
}
