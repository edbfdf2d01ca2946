/**
 * `refinery worker`: takes jobs of any run from the queue and executes them with the same task
 * code as a local run. A task job runs one task on a thread; a phase job (the barrier after all
 * tasks of a phase) queues the next phase, or finishes the run with `finishRun` and calls the
 * run-finished hook (the researcher report, as `refinery run` writes it).
 *
 * The worker keeps a record of itself and the tasks it holds (worker-registry.ts), renewed at each
 * heartbeat; at each heartbeat it also asks whether the runs of its tasks were cancelled, and
 * stops their tasks if so. A task of a paused run is put back in the queue (delayed) unstarted.
 */
import { DelayedError, UnrecoverableError, Worker, WaitingChildrenError, WaitingError, type Job } from 'bullmq';
import type { Server } from 'node:http';
import type { Logger } from 'pino';
import { RefineryError } from '../errors.ts';
import { roundTasks, taskId, type RunPlan } from '../engine/run-plan.ts';
import { finishedPhase, finishedTask, finishedTasks, roundConverged, storeOf, type TaskResult } from '../engine/markers.ts';
import { finishRun } from '../engine/run.ts';
import { isConnectionError, RedisOutage, type QueueTarget } from './connection.ts';
import { roundJobs, type JobData } from './jobs.ts';
import { RunQueue } from './run-queue.ts';
import { TaskAbandoned, TaskThreads } from '../engine/task-threads.ts';
import type { RunFinishedHook } from '../cli/run-summary.ts';
import { environmentSecrets, Redactor, secretsIn } from '../secrets.ts';
import { WorkerPresence } from './worker-registry.ts';
import { WorkerMetrics } from './worker-metrics.ts';

export interface WorkerSettings {
  /** Tasks run at once (one thread each). */
  concurrency: number;
  /** ms a job's lock lasts without renewal; a worker that stops renewing (killed) loses its job after it. */
  lockDuration: number;
  /** ms between checks for jobs whose lock expired (stalled), which go back to the queue. */
  stalledInterval: number;
  /** Seconds a SIGTERM waits for tasks in flight to finish before handing them back. */
  grace: number;
  log: Logger;
  /** ms between heartbeats (the worker's record renewed, cancelled runs looked for). */
  heartbeat: number;
  /** Serve Prometheus metrics at http://<host>:<port>/metrics. */
  metricsPort?: number;
  /** Runs when a run whose record asks for the report has finished (the researcher report). */
  onRunFinished?: RunFinishedHook;
}


/** How often a running task reports its document count to Redis (for `refinery status`). */
const PROGRESS_EVERY_MS = 2000;

/** A task of a paused run goes back to the queue for this long before a worker looks at it again (`resume` promotes it at once). */
const PAUSED_DELAY_MS = 30_000;

export class QueueWorker {
  private readonly rq: RunQueue;
  private readonly threads: TaskThreads;
  private readonly worker: Worker<JobData>;
  private stopping: Promise<void> | null = null;
  /** Set when tasks are handed back: a task fetched meanwhile is handed back before it starts. */
  private handingBack = false;
  /** Resolves when `stop` has closed everything, which `run` also waits for. */
  private readonly stopped: Promise<void>;
  private markStopped: () => void = () => {};
  private readonly presence: WorkerPresence;
  readonly metrics = new WorkerMetrics();
  private metricsServer: Server | null = null;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private beating = false;
  /** Runs found cancelled: their tasks in flight were stopped, and fail without retry. */
  private readonly cancelled = new Set<string>();

  constructor(
    target: QueueTarget,
    private readonly settings: WorkerSettings,
  ) {
    this.stopped = new Promise((resolve) => (this.markStopped = resolve));
    // One line per outage, whichever connection (ours, BullMQ's blocking one) reports it, and
    // however often ioredis retries; other errors one line each.
    const outage = new RedisOutage(target, (line) => settings.log.warn(line));
    const onError = (err: Error) => {
      if (!isConnectionError(err)) settings.log.error(`queue error: ${err.message}`);
      // The blocking connection may fail an attempt after ours is back: not a new outage.
      else if (this.rq.client.status !== 'ready') outage.lost(err);
    };
    this.rq = RunQueue.open(target, onError);
    this.threads = new TaskThreads(settings.concurrency);
    this.presence = new WorkerPresence(this.rq.client, target, settings.concurrency, settings.heartbeat);
    // BullMQ stores a failed job's message in Redis, where `status` on any machine reads it: redacted as printed output is.
    const redactor = new Redactor([...secretsIn(process.argv), ...environmentSecrets(process.env)]);
    const run = (job: Job<JobData>, token: string | undefined) => this.process(job, token).catch((e: unknown) => Promise.reject(redactor.redactError(e)));
    this.worker = new Worker<JobData>(target.queue, run, {
      connection: this.rq.client,
      prefix: target.prefix,
      concurrency: settings.concurrency,
      lockDuration: settings.lockDuration,
      stalledInterval: settings.stalledInterval,
      // Tasks are idempotent (markers, atomic renames): a task that stalls is simply run again.
      maxStalledCount: 3,
      autorun: false,
    });
    this.worker.on('failed', (job, err) => {
      if (job) settings.log.warn({ run: job.data.run, task: job.name }, `failed (attempt ${job.attemptsMade} of ${job.opts.attempts ?? 1}): ${err.message}`);
    });
    this.worker.on('error', onError);
    // Commands wait while Redis is away (ioredis retries for ever); say so once, and when it is back.
    this.rq.client.on('error', (err: Error) => outage.lost(err));
    this.rq.client.on('ready', () => outage.back());
  }

  /**
   * Resolves when the worker has stopped (after `stop`). BullMQ's loop may still be waiting for
   * Redis when a forced stop has closed everything, hence the race.
   */
  async run(): Promise<void> {
    if (this.settings.metricsPort !== undefined) {
      this.metricsServer = await this.metrics.serve(this.settings.metricsPort);
      this.settings.log.info(`metrics at http://0.0.0.0:${this.settings.metricsPort}/metrics`);
    }
    // Not awaited: while Redis is away a beat waits for it, and the worker must still stop on SIGTERM.
    void this.heartbeat();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), this.settings.heartbeat);
    return Promise.race([this.worker.run(), this.stopped]);
  }

  /** Renews this worker's record and stops the tasks of runs cancelled since the last beat. */
  private async heartbeat(): Promise<void> {
    // One beat at a time: while Redis is away a beat waits, and the next ones are skipped.
    if (this.beating) return;
    this.beating = true;
    try {
      await this.presence.beat();
      for (const run of this.presence.runs()) {
        if (this.cancelled.has(run) || !(await this.rq.records.control(run)).cancelled) continue;
        this.cancelled.add(run);
        const n = this.threads.abandonRun(run);
        if (n) this.settings.log.info({ run }, `run cancelled: stopping ${n} task(s) in flight`);
      }
    } catch (e) {
      // Redis away: the outage is logged once by the connection's listeners; the next beat tries again.
      if (!isConnectionError(e)) this.settings.log.error(`heartbeat: ${(e as Error).message}`);
    } finally {
      this.beating = false;
    }
  }

  /**
   * Stops taking jobs; tasks in flight may finish within the grace period, after which (or at
   * once with `now`) they are abandoned and their jobs handed back to the queue for another worker.
   */
  stop(now = false): Promise<void> {
    if (now) {
      this.handingBack = true;
      const n = this.threads.abandonAll();
      if (n) this.settings.log.info(`handing back ${n} task(s)`);
    }
    this.stopping ??= (async () => {
      const timer = setTimeout(() => this.stop(true), this.settings.grace * 1000);
      // A graceful close waits for BullMQ's pending commands, which run only once Redis is back;
      // with no task in flight there is nothing to wait for, so close at once.
      const force = this.rq.client.status !== 'ready' && this.threads.busy === 0;
      await this.worker.close(force);
      clearTimeout(timer);
      if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
      // Stopped cleanly: nothing held, nothing for `refinery workers` to show. Skipped while Redis is away.
      if (this.rq.client.status === 'ready') await this.presence.remove().catch(() => {});
      await new Promise((resolve) => (this.metricsServer ? this.metricsServer.close(resolve) : resolve(undefined)));
      await this.threads.close();
      await this.rq.close();
      this.markStopped();
    })();
    return this.stopping;
  }

  /**
   * The barrier of a repeating phase: finds the first round whose tasks have not run (after a round
   * that left work) and adds them as children of this phase job, which then waits for them again.
   * Returns false when the last round left no work (the phase is done). Stateless, so a retried
   * phase job does the same (job ids make adding a round twice a no-op).
   */
  private async nextRound(job: Job<JobData>, token: string | undefined, plan: RunPlan, run: string, phase: number): Promise<boolean> {
    for (let round = 0; ; round++) {
      const results = await finishedTasks(plan, roundTasks(plan.phases[phase]!, round));
      if (results.every((r) => r !== null)) {
        if (roundConverged(results as TaskResult[])) return false;
        continue;
      }
      if (round === 0) throw new RefineryError(`phase "${plan.phases[phase]!.name}" completed in the queue but its tasks left no marker in ${plan.config.output}: every worker must see the same output (a bucket prefix, or a shared folder at the same path)`);
      await this.rq.queue.addBulk(roundJobs(plan, run, phase, round, await this.rq.records.retry(run), { id: job.id!, queue: job.queueQualifiedName }));
      if (!(await job.moveToWaitingChildren(token ?? ''))) {
        throw new RefineryError(`round ${round} of phase "${plan.phases[phase]!.name}" completed in the queue but left no marker in ${plan.config.output}: every worker must see the same output (a bucket prefix, or a shared folder at the same path)`);
      }
      this.settings.log.info({ run }, `round ${round - 1} of "${plan.phases[phase]!.name}" left work; queued round ${round}`);
      return true;
    }
  }

  private async process(job: Job<JobData>, token: string | undefined): Promise<null> {
    const data = job.data;
    const { records } = this.rq;
    const plan = await records.plan(data.run);
    const control = await records.control(data.run);
    if (control.cancelled) {
      if (data.kind === 'task') this.metrics.ended(job.id ?? '', data.task.kind, 'cancelled');
      throw new UnrecoverableError(`run ${data.run} was cancelled`);
    }
    if (control.paused && data.kind === 'task') {
      // Not started: back to the queue, without counting as an attempt, until `refinery resume`.
      await job.moveToDelayed(Date.now() + PAUSED_DELAY_MS, token);
      this.metrics.ended(job.id ?? '', data.task.kind, 'paused');
      throw new DelayedError();
    }
    if (data.kind === 'phase') {
      if (plan.phases[data.phase]!.repeat && (await this.nextRound(job, token, plan, data.run, data.phase))) throw new WaitingChildrenError();
      if (data.phase + 1 < plan.phases.length) {
        await this.rq.addPhase(plan, data.run, data.phase + 1, await records.retry(data.run));
        this.settings.log.info({ run: data.run }, `phase "${plan.phases[data.phase]!.name}" done; queued "${plan.phases[data.phase + 1]!.name}"`);
        return null;
      }
      const results: TaskResult[] = [];
      for (const phase of plan.phases) {
        const done = await finishedPhase(plan, phase);
        if (!done) throw new RefineryError(`phase "${phase.name}" completed in the queue but some of its tasks left no marker in ${plan.config.output}: every worker must see the same output (a bucket prefix, or a shared folder at the same path)`);
        results.push(...done);
      }
      // Locked as `refinery run` locks it: a local run on the same output fails this job (retried later) rather than mixing in.
      const unlock = await (await storeOf(plan.config)).lock(`finish=${data.run}`);
      let stats;
      try {
        // The researcher report, as `refinery run` writes it: written before the run counts as completed.
        const report = this.settings.onRunFinished && (await records.report(data.run)) ? this.settings.onRunFinished : undefined;
        ({ stats } = await finishRun(plan, results, report));
      } finally {
        await unlock();
      }
      await records.finished(data.run);
      this.settings.log.info({ run: data.run }, `run completed: ${stats.totals.kept} kept, ${stats.totals.rejected} rejected, ${stats.totals.errored} errored; outputs and report/ in ${plan.config.output}`);
      return null;
    }
    const at = { run: data.run, task: taskId(data.task) };
    const jobId = job.id ?? taskId(data.task);
    if (await finishedTask(plan, data.task)) {
      this.settings.log.info(at, 'finished earlier (marker found), skipped');
      this.metrics.ended(jobId, data.task.kind, 'skipped');
      return null;
    }
    await records.taskStarted(data.run);
    this.settings.log.info(at, `started (attempt ${job.attemptsMade + 1} of ${job.opts.attempts ?? 1})`);
    await this.presence.taken(data.run, at.task, jobId);
    this.metrics.started(jobId);
    let last = 0;
    const t0 = performance.now();
    let result: TaskResult;
    try {
      if (this.handingBack) throw new TaskAbandoned('stopping');
      result = await this.threads.run(data.run, plan, data.task, (docs, bytes) => {
        if (data.phase === 0) this.metrics.progress(jobId, docs, bytes);
        const now = performance.now();
        if (now - last < PROGRESS_EVERY_MS) return;
        last = now;
        job.updateProgress({ docs, bytes }).catch(() => {});
      });
    } catch (err) {
      await this.presence.released(jobId).catch(() => {});
      if (err instanceof TaskAbandoned && this.cancelled.has(data.run)) {
        this.metrics.ended(jobId, data.task.kind, 'cancelled');
        this.settings.log.info(at, 'stopped: its run was cancelled');
        throw new UnrecoverableError(`run ${data.run} was cancelled`);
      }
      if (!(err instanceof TaskAbandoned)) {
        this.metrics.ended(jobId, data.task.kind, 'failed');
        throw err;
      }
      this.metrics.ended(jobId, data.task.kind, 'handed_back');
      await job.moveToWait(token);
      this.settings.log.info(at, 'handed back to the queue');
      throw new WaitingError();
    }
    const seconds = (performance.now() - t0) / 1000;
    const inputBytes = data.task.kind === 'process' && data.task.step === 0 ? await records.shardBytes(data.run, data.task.index) : 0;
    await records.taskDone(data.run, result.read?.docs ?? 0, result.read?.bytes ?? 0, inputBytes);
    this.metrics.finished(jobId, data.task.kind, result, seconds, inputBytes);
    await this.presence.released(jobId);
    this.settings.log.info(at, `done in ${seconds.toFixed(1)} s${result.read ? ` (${result.read.docs} docs)` : ''}`);
    return null;
  }
}
