/** The BullMQ objects of one queue (and the run records beside it), opened once per command. */
import { FlowProducer, Queue } from 'bullmq';
import { connectRedis, isConnectionError, waitForRedis, type QueueTarget, type RedisClient } from './connection.ts';
import { RunRecords } from './run-record.ts';
import { phaseFlow, phaseJobId, type JobData, type RetryPolicy } from './jobs.ts';
import type { RunPlan } from '../engine/run-plan.ts';
import { RefineryError } from '../errors.ts';

function reportQueueError(err: Error): void {
  if (!isConnectionError(err)) process.stderr.write(`refinery: queue error: ${err.message}\n`);
}

export class RunQueue {
  readonly queue: Queue<JobData>;
  readonly records: RunRecords;
  private readonly flows: FlowProducer;

  private constructor(
    readonly target: QueueTarget,
    readonly client: RedisClient,
    onError: (err: Error) => void,
  ) {
    const opts = { connection: client, prefix: target.prefix };
    this.queue = new Queue<JobData>(target.queue, opts);
    this.flows = new FlowProducer(opts);
    // Without listeners BullMQ prints every failed reconnection attempt with its stack trace.
    this.queue.on('error', onError);
    this.flows.on('error', onError);
    this.records = new RunRecords(client, target);
  }

  /**
   * `onError` gets the errors BullMQ reports outside any call (chiefly failed reconnection
   * attempts); by default connection errors are ignored (callers bound their wait with
   * `waitForRedis`) and any other is printed as one line.
   */
  static open(target: QueueTarget, onError: (err: Error) => void = reportQueueError): RunQueue {
    return new RunQueue(target, connectRedis(target), onError);
  }

  /** Resolves once Redis answers; a RefineryError naming the URL after `seconds`. */
  ready(seconds: number): Promise<void> {
    return waitForRedis(this.client, this.target, seconds);
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
