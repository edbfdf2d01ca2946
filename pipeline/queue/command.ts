/** CLI: `refinery submit`, `refinery worker`, `refinery status` (a run on BullMQ workers). */
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { loadPipelineFile } from '../config.ts';
import { RefineryError } from '../errors.ts';
import { addTrialFlags, finiteNumber, positiveInt, trialOverrides, type TrialFlags } from '../cli/arguments.ts';
import { dryRun } from '../cli/dry-run.ts';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, withinTime, type QueueTarget } from './connection.ts';
import { RunQueue } from './run-queue.ts';
import { submitRun } from './submit.ts';
import { QueueWorker } from './worker.ts';
import type { RunFinishedHook } from '../cli/run-summary.ts';
import { formatStatus, runStatus } from './status.ts';

interface TargetOptions {
  redis: string;
  queue: string;
  prefix: string;
  cluster: boolean;
}


function withTarget(cmd: Command): Command {
  return cmd
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379 (with --cluster: comma-separated seed nodes)')
    .option('--queue <name>', 'queue name', DEFAULT_QUEUE)
    .option('--prefix <prefix>', 'key prefix; keep a {hash tag} for Redis Cluster', DEFAULT_PREFIX)
    .option('--cluster', 'connect to a Redis Cluster', false);
}

/** `--timeout`: how long submit and status wait for Redis before giving up (the worker waits for ever). */
const TIMEOUT_DEFAULT_SECONDS = 10;
const timeoutOption = ['--timeout <s>', 'seconds to wait for Redis to answer before giving up with exit code 1', finiteNumber(0), TIMEOUT_DEFAULT_SECONDS] as const;

const targetOf = (o: TargetOptions): QueueTarget => ({ redis: o.redis, queue: o.queue, prefix: o.prefix, cluster: o.cluster });

/** The options naming this queue, as one would type them again. */
function targetArgs(o: TargetOptions): string {
  const args = [`--redis ${o.redis}`];
  if (o.queue !== DEFAULT_QUEUE) args.push(`--queue ${o.queue}`);
  if (o.prefix !== DEFAULT_PREFIX) args.push(`--prefix '${o.prefix}'`);
  if (o.cluster) args.push('--cluster');
  return args.join(' ');
}

const log = (line: string) => process.stderr.write(`refinery worker ${new Date().toISOString()} ${line}\n`);

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
      .option('--grace <s>', 'seconds SIGTERM lets tasks in flight finish before handing them back', finiteNumber(0), 20),
  ).action(async (o: TargetOptions & { concurrency?: number; lockDuration: number; stalledInterval: number; grace: number }) => {
    const concurrency = o.concurrency ?? availableParallelism();
    const worker = new QueueWorker(targetOf(o), { concurrency, lockDuration: o.lockDuration, stalledInterval: o.stalledInterval, grace: o.grace, log, ...(onRunFinished ? { onRunFinished } : {}) });
    const onSignal = (signal: string) => {
      const again = signalled;
      signalled = true;
      log(again ? `${signal} again: handing back the tasks in flight` : `${signal}: taking no more jobs; tasks in flight get ${o.grace} s to finish`);
      void worker.stop(again);
    };
    let signalled = false;
    process.on('SIGTERM', () => onSignal('SIGTERM'));
    process.on('SIGINT', () => onSignal('SIGINT'));
    log(`pid ${process.pid} working on queue ${o.queue} at ${o.redis} with ${concurrency} thread(s)`);
    await worker.run();
    await worker.stop();
    log('stopped');
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
        const ended = s.state !== 'running';
        if (o.watch || ended || !o.wait) process.stdout.write(`${o.watch && tty ? '\x1b[2J\x1b[H' : ''}${formatStatus(s)}\n${o.watch && !tty ? '\n' : ''}`);
        if (ended || (!o.watch && !o.wait)) {
          if (o.wait && s.state === 'failed') throw new RefineryError(`run ${run} failed`);
          return;
        }
        await sleep(o.interval * 1000);
      }
    } finally {
      await rq.close();
    }
  });
}
