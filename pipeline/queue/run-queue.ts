/** The BullMQ objects of one queue (and the run records beside it), opened once per command. */
import { FlowProducer, Queue } from 'bullmq';
import { connectRedis, type QueueTarget, type RedisClient } from './connection.ts';
import { RunRecords } from './run-record.ts';
import { phaseFlow, phaseJobId, type JobData, type RetryPolicy } from './jobs.ts';
import type { RunPlan } from '../run-plan.ts';

export class RunQueue {
  readonly queue: Queue<JobData>;
  readonly records: RunRecords;
  private readonly flows: FlowProducer;

  private constructor(
    readonly target: QueueTarget,
    readonly client: RedisClient,
  ) {
    const opts = { connection: client, prefix: target.prefix };
    this.queue = new Queue<JobData>(target.queue, opts);
    this.flows = new FlowProducer(opts);
    this.records = new RunRecords(client, target);
  }

  static open(target: QueueTarget): RunQueue {
    return new RunQueue(target, connectRedis(target));
  }

  /** Adds a phase's flow unless it is there already (a retried barrier job calls this again). */
  async addPhase(plan: RunPlan, run: string, phase: number, retry: RetryPolicy): Promise<boolean> {
    if (await this.queue.getJob(phaseJobId(run, phase))) return false;
    await this.flows.add(phaseFlow(plan, run, phase, this.target.queue, retry));
    return true;
  }

  /** Removes every job of a run (those of a phase with the phase job) and its record. */
  async removeRun(plan: RunPlan, run: string): Promise<void> {
    for (let p = 0; p < plan.phases.length; p++) await this.queue.remove(phaseJobId(run, p), { removeChildren: true });
    await this.records.remove(run);
  }

  async close(): Promise<void> {
    await this.flows.close();
    await this.queue.close();
    this.client.disconnect();
  }
}
