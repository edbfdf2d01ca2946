/** CLI: `refinery submit`, `refinery worker`, `refinery status` (a run on BullMQ workers); run control is in control-command.ts. */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { loadPipelineFile } from '../config.ts';
import { RefineryError } from '../errors.ts';
import { addTrialFlags, finiteNumber, positiveInt, trialOverrides, type TrialFlags } from '../cli/arguments.ts';
import { dryRun } from '../cli/dry-run.ts';
import { withinTime } from './connection.ts';
import { targetArgs, targetOf, timeoutOption, withTarget, type TargetOptions } from './target-options.ts';
import { createLogger, LOG_FORMATS, type LogFormat } from '../logger.ts';
import { Option } from 'commander';
import { RunQueue } from './run-queue.ts';
import { submitRun } from './submit.ts';
import { QueueWorker } from './worker.ts';
import type { RunFinishedHook } from '../cli/run-summary.ts';
import { formatStatus, hasEnded, runStatus } from './status.ts';

/** Each line cut to `width` characters. */
const fitWidth = (text: string, width: number) => text.split('\n').map((l) => (l.length > width ? `${l.slice(0, width - 1)}…` : l)).join('\n');

/** `onRunFinished`: what a worker does after the last phase of a run (the composition root's report). */
export function registerQueueCommands(program: Command, onRunFinished?: RunFinishedHook): void {
  withTarget(addTrialFlags(
    program
      .command('submit')
      .description('Queue a pipeline run on BullMQ for `refinery worker` processes; prints the run id on the last line.')
      .argument('<pipeline.yaml>', 'pipeline file (every worker must reach its inputs, plugins and output: URLs, or folders at the same paths)')
      .option('-i, --input <paths...>', "input files or globs, instead of the pipeline's inputs")
      .option('-o, --output <dir>', "output folder or s3://bucket/prefix, instead of the pipeline's output")
      .option('--work-dir <dir>', "with an s3:// output: the local folder where each worker's tasks keep their scratch (default: under TMPDIR)")
      .option('--force', 'drop the run\'s jobs and outputs and start it afresh', false)
      .option('--attempts <n>', 'attempts per task before it fails the run', positiveInt, 3)
      .option('--backoff <ms>', 'delay before the first retry, doubled at each further one', finiteNumber(0), 10_000)
      .option('--no-report', 'skip the researcher report (report/) at the end of the run')
      .option(...timeoutOption)),
  ).action(async (file: string, o: TargetOptions & TrialFlags & { input?: string[]; output?: string; workDir?: string; force: boolean; attempts: number; backoff: number; timeout: number; report: boolean }) => {
    const config = await loadPipelineFile(file, { ...(o.input ? { inputs: o.input } : {}), ...(o.output ? { output: o.output } : {}), ...(o.workDir ? { workDir: o.workDir } : {}), ...trialOverrides(o) });
    if (o.dryRun) {
      process.stdout.write(await dryRun(config));
      return;
    }
    const rq = RunQueue.open(targetOf(o));
    try {
      await rq.ready(o.timeout);
      const { run, outcome } = await submitRun(rq, config, { force: o.force, retry: { attempts: o.attempts, backoff: o.backoff }, report: o.report });
      const rec = (await rq.records.get(run))!;
      const tasks = rec.plan.phases.reduce((a, p) => a + p.tasks.length, 0);
      process.stderr.write(
        outcome === 'already submitted' || outcome === 'already completed'
          ? `refinery: run ${run} is ${outcome}; nothing added\n`
          : `refinery: ${outcome} run ${run}: ${rec.plan.phases.length} phases, ${tasks} tasks (${rec.plan.shards.length} shards) on queue ${o.queue}; follow it with \`refinery status ${run} ${targetArgs(o)} --watch\`\n`,
      );
      process.stdout.write(`${run}\n`);
    } finally {
      await rq.close();
    }
  });

  withTarget(
    program
      .command('worker')
      .description('Execute queued pipeline tasks of any run until SIGTERM (tasks in flight finish or are handed back).')
      .option('-c, --concurrency <n>', 'tasks at once, one thread each (default: every core)', positiveInt)
      .option('--lock-duration <ms>', 'lock of a job in flight; a killed worker\'s job is taken up again after it', positiveInt, 30_000)
      .option('--stalled-interval <ms>', 'how often to look for jobs whose worker died', positiveInt, 30_000)
      .option('--grace <s>', 'seconds SIGTERM lets tasks in flight finish before handing them back', finiteNumber(0), 20)
      .option('--heartbeat <s>', 'seconds between heartbeats: the worker\'s record renewed (`refinery workers`), cancelled runs looked for; missing 3 marks the worker lost', finiteNumber(0.05), 5)
      .option('--metrics-port <port>', 'serve Prometheus metrics at http://<host>:<port>/metrics (tasks, documents, bytes, errors, task seconds)', positiveInt)
      .addOption(new Option('--log-format <format>', 'log lines as text or as JSON objects (pino)').choices(LOG_FORMATS).default('text')),
  ).action(async (o: TargetOptions & { concurrency?: number; lockDuration: number; stalledInterval: number; grace: number; heartbeat: number; metricsPort?: number; logFormat: LogFormat }) => {
    const concurrency = o.concurrency ?? availableParallelism();
    const log = createLogger('worker', o.logFormat);
    const worker = new QueueWorker(targetOf(o), {
      concurrency, lockDuration: o.lockDuration, stalledInterval: o.stalledInterval, grace: o.grace, heartbeat: o.heartbeat * 1000, log,
      ...(o.metricsPort !== undefined ? { metricsPort: o.metricsPort } : {}),
      ...(onRunFinished ? { onRunFinished } : {}),
    });
    const onSignal = (signal: string) => {
      const again = signalled;
      signalled = true;
      log.info(again ? `${signal} again: handing back the tasks in flight` : `${signal}: taking no more jobs; tasks in flight get ${o.grace} s to finish`);
      void worker.stop(again);
    };
    let signalled = false;
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
    log.info(`pid ${process.pid} working on queue ${o.queue} at ${o.redis} with ${concurrency} thread(s)`);
    try {
      await worker.run();
    } finally {
      await worker.stop();
    }
    log.info('stopped');
  });

  withTarget(
    program
      .command('status')
      .description('Progress of a queued run per phase, throughput and failures.')
      .argument('<run>', 'run id printed by `refinery submit`')
      .option('--watch', 'refresh until interrupted (or until the run ends, with --wait)', false)
      .option('--wait', 'block until the run ends; exit 0 only if it completed', false)
      .option('--interval <s>', 'seconds between refreshes', finiteNumber(0), 2)
      .option(...timeoutOption),
  ).action(async (run: string, o: TargetOptions & { watch: boolean; wait: boolean; interval: number; timeout: number }) => {
    const target = targetOf(o);
    const rq = RunQueue.open(target);
    const tty = Boolean(process.stdout.isTTY);
    try {
      await rq.ready(o.timeout);
      for (;;) {
        // Bounded: commands wait for a reconnection, which may never come.
        const rec = await withinTime(rq.records.get(run), target, o.timeout);
        if (!rec) throw new RefineryError(`no run ${run} in queue ${o.queue} (prefix ${o.prefix}) at ${o.redis}`);
        const s = await withinTime(runStatus(rq, rec), target, o.timeout);
        const ended = hasEnded(s.state);
        // On a terminal, --watch redraws in place (cursor home, clear below): every line cut to the width, so that none wraps.
        const text = o.watch && tty ? `\x1b[H\x1b[J${fitWidth(formatStatus(s), process.stdout.columns || 120)}` : formatStatus(s);
        if (o.watch || ended || !o.wait) process.stdout.write(`${text}\n${o.watch && !tty ? '\n' : ''}`);
        if (ended || (!o.watch && !o.wait)) {
          if (o.wait && s.state === 'failed') throw new RefineryError(`run ${run} failed`);
          if (o.wait && s.state === 'cancelled') throw new RefineryError(`run ${run} was cancelled`);
          return;
        }
        await sleep(o.interval * 1000);
      }
    } finally {
      await rq.close();
    }
  });
}
