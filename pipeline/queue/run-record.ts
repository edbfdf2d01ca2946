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
  /** Bytes of the input files, for progress by bytes; 0 when not recorded. */
  inputBytes: number;
  /** Input bytes of the shards that finished tasks of the first phase read. */
  inputDone: number;
  /** `refinery pause`: workers start no task of the run until `refinery resume`. */
  pausedAt: number | null;
  /** `refinery cancel`: workers start no task of the run and stop those in flight. */
  cancelledAt: number | null;
}

/** What a worker checks before and while it runs a task of the run. */
export interface RunControl {
  paused: boolean;
  cancelled: boolean;
}

export class RunRecords {
  private readonly plans = new Map<string, RunPlan>();
  private readonly sizes = new Map<string, number[]>();

  constructor(
    private readonly client: RedisClient,
    private readonly target: QueueTarget,
  ) {}

  private key(run: string): string {
    return `${this.target.prefix}:${this.target.queue}:runs:${run}`;
  }

  /** Records a new run; false if a run with this id is recorded already. */
  /** `shardBytes`: each input shard's bytes (a striped file's shared among its stripes), for progress by bytes. */
  async create(run: string, plan: RunPlan, retry: RetryPolicy, report = true, shardBytes: number[] = []): Promise<boolean> {
    const key = this.key(run);
    const created = await this.client.hsetnx(key, 'plan', JSON.stringify(plan));
    if (created === 0) return false;
    const inputBytes = Math.round(shardBytes.reduce((a, b) => a + b, 0));
    await this.client.hset(key, { retry: JSON.stringify(retry), report: report ? 1 : 0, submitted_at: Date.now(), docs: 0, bytes: 0, tasks_done: 0, input_bytes: inputBytes, input_done: 0, shard_bytes: JSON.stringify(shardBytes.map(Math.round)) });
    return true;
  }

  /** The bytes of input shard `index` (0 when the record has none). */
  async shardBytes(run: string, index: number): Promise<number> {
    let sizes = this.sizes.get(run);
    if (!sizes) {
      sizes = JSON.parse((await this.client.hget(this.key(run), 'shard_bytes')) ?? '[]') as number[];
      if (this.sizes.size >= 16) this.sizes.clear();
      this.sizes.set(run, sizes);
    }
    return sizes[index] ?? 0;
  }

  /** The ids of every run recorded on the queue (SCAN: a shared Redis is not blocked). */
  async list(): Promise<string[]> {
    const prefix = this.key('');
    const runs: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await this.client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      runs.push(...batch.map((k) => k.slice(prefix.length)));
    } while (cursor !== '0');
    return runs.sort();
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
      inputBytes: Number(h.input_bytes ?? 0),
      inputDone: Number(h.input_done ?? 0),
      pausedAt: num(h.paused_at),
      cancelledAt: num(h.cancelled_at),
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

  /** `inputBytes`: the bytes of the input shard a first-phase task read (0 for other tasks). */
  async taskDone(run: string, docs: number, bytes: number, inputBytes = 0): Promise<void> {
    const key = this.key(run);
    await this.client.multi().hincrby(key, 'tasks_done', 1).hincrby(key, 'docs', docs).hincrby(key, 'bytes', bytes).hincrby(key, 'input_done', inputBytes).exec();
  }

  async control(run: string): Promise<RunControl> {
    const [paused, cancelled] = await this.client.hmget(this.key(run), 'paused_at', 'cancelled_at');
    return { paused: paused !== null, cancelled: cancelled !== null };
  }

  /** False when the run is not recorded (the flag is never set on a key that does not hold a run). */
  private async flag(run: string, field: string, on: boolean): Promise<boolean> {
    const key = this.key(run);
    if (!(await this.client.hexists(key, 'plan'))) return false;
    if (on) await this.client.hsetnx(key, field, Date.now());
    else await this.client.hdel(key, field);
    return true;
  }

  pause(run: string): Promise<boolean> {
    return this.flag(run, 'paused_at', true);
  }

  resume(run: string): Promise<boolean> {
    return this.flag(run, 'paused_at', false);
  }

  cancel(run: string): Promise<boolean> {
    return this.flag(run, 'cancelled_at', true);
  }

  async finished(run: string): Promise<void> {
    await this.client.hset(this.key(run), 'finished_at', Date.now());
  }

  async remove(run: string): Promise<void> {
    this.plans.delete(run);
    this.sizes.delete(run);
    await this.client.del(this.key(run));
  }
}
