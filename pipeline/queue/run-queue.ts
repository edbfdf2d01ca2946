/** The BullMQ objects of one queue (and the run records beside it), opened once per command. */
import { FlowProducer, Queue } from 'bullmq';
import { connectRedis, type QueueTarget, type RedisClient } from './connection.ts';
import { RunRecords } from './run-record.ts';
import { phaseFlow, phaseJobId, type JobData, type RetryPolicy } from './jobs.ts';
import type { RunPlan } from '../run-plan.ts';
import { RefineryError } from '../errors.ts';

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

  /**
   * Removes every job of a run (those of a phase with the phase job) and its record. BullMQ does
   * not remove a phase whose job or a task of which a worker holds: then this throws, having
   * removed nothing (only the phase in flight can hold active jobs, and it goes first).
   */
  async removeRun(plan: RunPlan, run: string): Promise<void> {
    for (let p = plan.phases.length - 1; p >= 0; p--) {
      const id = phaseJobId(run, p);
      await this.queue.remove(id, { removeChildren: true });
      if (await this.queue.getJob(id)) throw new RefineryError(`run ${run}: some of its tasks are running; wait until they end (refinery status shows them as active), then submit again`);
    }
    await this.records.remove(run);
  }

  async close(): Promise<void> {
    await this.flows.close();
    await this.queue.close();
    this.client.disconnect();
  }
}
