/**
 * Runs a pipeline on this machine: plans the tasks, skips those a previous run finished, runs
 * the rest phase by phase on a thread pool, then writes stats.json and report.md after checking
 * that every document is accounted for.
 */
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { prepareConfig, type RunConfig } from '../config.ts';
import { ConfigError, errorMessage, RefineryError } from '../errors.ts';
import { writeFileAtomic, stableJson } from '../io/atomic.ts';
import { planRun, roundTasks, taskId, type GlobalShape, type RunPlan, type Task } from './run-plan.ts';
import { createStage } from './stage-instances.ts';
import { finishedTasks, roundConverged, storeOf, type TaskResult } from './markers.ts';
import { ThreadPool } from './thread-pool.ts';
import { writeTallies } from './tallies.ts';
import type { RunFiles } from '../run-folder/files.ts';
import type { RunStore } from '../run-folder/store.ts';
import { Progress } from './progress.ts';
import type { Logger } from 'pino';
import { addStageStats, checkAccounting, emptyStageStats, funnelMarkdown, totalsOf, type PhaseStats, type ReadStats, type RunStats, type StageStats } from '../stats.ts';

export interface RunOptions {
  /** Redo every task even if an earlier run of the same config finished it. */
  force?: boolean;
  quiet?: boolean;
  /** Progress as log lines of this logger (JSON, with run and task ids) instead of text on stderr. */
  log?: Logger;
  /** Runs when the run has finished, on the local folder that holds its stats.json (the report of the composition root), before stats.json is stored. */
  onFinished?: RunFinishedHook;
}

/** Writes what a finished run adds about itself (report/) into `dir`, a local folder laid out as the run folder; `files` reads the rest of the run. */
export type RunFinishedHook = (dir: string, files: RunFiles) => Promise<void>;

export interface RunResult {
  /** Where the run is stored: its folder, or its s3:// prefix. */
  output: string;
  stats: RunStats;
  /** Where a file or folder of the run is, as the user should be told (a folder's relative to here when inside it). */
  shown: (...parts: string[]) => string;
  /** The names at the top of the run's storage when it finished (kept, stats.json, tokens ...). */
  names: string[];
}

/**
 * Plans the run after creating every stage once, so that a bad option (a model folder or a list
 * file that does not exist) stops the run before any work, naming its config key.
 */
export async function makePlan(config: RunConfig): Promise<RunPlan> {
  const shapes = new Map<number, GlobalShape>();
  for (const [i, s] of config.stages.entries()) {
    let stage;
    try {
      stage = await createStage(config, i);
    } catch (e) {
      throw new ConfigError(config.file, `${s.keyPath} (${s.stage})`, errorMessage(e));
    }
    if (stage.kind === 'global') {
      const steps = (stage.steps ?? []).map((st) => ({ name: st.name, tasks: st.tasks, repeat: st.repeat ?? false }));
      shapes.set(i, { partitions: stage.partitions, finish: typeof stage.finish === 'function', steps });
    }
    else await stage.close?.();
  }
  return planRun(config, async (i) => shapes.get(i)!);
}

/** Adds up the task results into run statistics (the order of stages is the config's). */
export function aggregate(plan: RunPlan, results: TaskResult[]): RunStats {
  const read: ReadStats = { docs: 0, errors: 0, bytes: 0 };
  const stages: StageStats[] = [];
  const globalSeconds = new Map<number, number>();
  for (const r of results) if (r.task.kind !== 'process') globalSeconds.set(r.task.step, (globalSeconds.get(r.task.step) ?? 0) + r.seconds);
  for (const [k] of plan.segments.entries()) {
    const mine = results.filter((r) => r.task.kind === 'process' && r.task.step === k).sort((a, b) => a.task.index - b.task.index);
    const merged: StageStats[] = [];
    for (const r of mine) {
      if (r.read) {
        read.docs += r.read.docs;
        read.errors += r.read.errors;
        read.bytes += r.read.bytes;
      }
      r.stages.forEach((s, i) => {
        merged[i] ??= emptyStageStats(s.name, s.kind);
        addStageStats(merged[i]!, s);
      });
    }
    if (plan.segments[k]!.global !== null && merged[0]) merged[0].seconds += globalSeconds.get(k) ?? 0;
    stages.push(...merged);
  }
  return { totals: totalsOf(read, stages), read, stages, phases: phaseStats(plan, results) };
}

/** One entry per phase that has results, in plan order (rounds of a repeating phase add up). */
export function phaseStats(plan: RunPlan, results: TaskResult[]): PhaseStats[] {
  const phaseOf = new Map<string, number>();
  plan.phases.forEach((p, i) => p.tasks.forEach((t) => phaseOf.set(taskId({ ...t, round: undefined }), i)));
  const out: (PhaseStats | undefined)[] = [];
  for (const r of results) {
    const i = phaseOf.get(taskId({ ...r.task, round: undefined }));
    if (i === undefined) continue;
    const p = plan.phases[i]!;
    const e = (out[i] ??= { stage: p.stage, phase: p.kind, tasks: 0, seconds: 0, max_task_peak_bytes: 0, ...(p.repeat ? { rounds: 0 } : {}) });
    e.tasks++;
    e.seconds += r.elapsed ?? r.seconds;
    e.max_task_peak_bytes = Math.max(e.max_task_peak_bytes, r.peak_bytes ?? 0);
    if (e.rounds !== undefined) e.rounds = Math.max(e.rounds, (r.task.round ?? 0) + 1);
  }
  return out.filter((e): e is PhaseStats => e !== undefined).map((e) => ({ ...e, seconds: Math.round(e.seconds * 1000) / 1000 }));
}

export async function runPipeline(config: RunConfig, options: RunOptions = {}): Promise<RunResult> {
  const store = await storeOf(config);
  await store.check();
  const plan = await makePlan(config);
  const unlock = await store.lock();
  try {
    return await runLocked(plan, options);
  } finally {
    await unlock();
  }
}

async function runLocked(plan: RunPlan, options: RunOptions): Promise<RunResult> {
  const { config } = plan;
  await (await storeOf(config)).prepare(plan, options.force ?? false);
  const workers = config.workers > 0 ? config.workers : availableParallelism();
  const progress = new Progress(options.quiet, options.log);
  await progress.measureInputs(plan);
  const widest = Math.max(1, ...plan.phases.map((p) => p.tasks.length));
  const pool = new ThreadPool(plan, Math.min(workers, widest));
  const results: TaskResult[] = [];
  try {
    for (const phase of plan.phases) {
      // A repeating phase runs round after round until a round leaves no work.
      for (let round = 0; ; round++) {
        const tasks = roundTasks(phase, round);
        const todo: Task[] = [];
        const mine: TaskResult[] = [];
        const recorded = await finishedTasks(plan, tasks);
        tasks.forEach((t, i) => {
          const done = recorded[i];
          if (done) mine.push(done);
          else todo.push(t);
        });
        progress.startPhase(phase.repeat ? `${phase.name} (round ${round})` : phase.name, tasks, todo);
        const fresh = await pool.runAll(
          todo,
          (slot, docs, bytes, task) => progress.update(slot, docs, bytes, task),
          (slot, r) => progress.taskDone(slot, r.task, r.read?.docs ?? r.stages[0]?.in, r.read?.bytes ?? r.stages[0]?.bytes_in ?? 0),
        );
        mine.push(...fresh);
        results.push(...mine);
        progress.endPhase();
        if (!phase.repeat || roundConverged(mine)) break;
      }
    }
  } finally {
    await pool.close();
  }
  return finishRun(plan, results, options.onFinished);
}

/**
 * After the last task: statistics, the accounting check, report.md, the run-finished hook
 * (report/), then stats.json, the run's completion mark, stored last; phase data is dropped.
 */
export async function finishRun(plan: RunPlan, results: TaskResult[], onFinished?: RunFinishedHook): Promise<RunResult> {
  const { config } = plan;
  const stats = aggregate(plan, results);
  const keptWritten = results.filter((r) => r.task.kind === 'process' && r.task.step === plan.segments.length - 1).reduce((a, r) => a + r.keptWritten, 0);
  checkAccounting(stats, keptWritten);
  const store = await storeOf(config);
  const space = await store.openTask();
  try {
    // The pipeline file relative to a run folder; from a bucket, as it was given.
    const origin = existsSync(config.file) && space.dir === config.output ? relative(config.output, config.file) : config.file;
    await writeFileAtomic(join(space.dir, 'report.md'), `# Refinery run report\n\nPipeline: ${origin}\n\n${funnelMarkdown(stats)}`);
    await writeTallies(plan, results, space.dir);
    await writeFileAtomic(join(space.dir, 'stats.json'), stableJson({ ...stats, config_hash: plan.configHash, shards: plan.shards.length }));
    // Phase data is only needed while the run is unfinished; the task markers stay, so a rerun of a
    // finished run skips every task.
    await store.dropPhaseData();
    // A run that fails max_error_rate still stores its stats.json and report.md, to read why.
    let failure: unknown = null;
    try {
      checkOutcome(config, stats, store);
    } catch (e) {
      failure = e;
    }
    if (failure === null) await onFinished?.(space.dir, space);
    await space.commit();
    if (failure !== null) throw failure;
  } finally {
    await space.close();
  }
  return { output: config.output, stats, shown: (...parts) => store.shown(parts.join('/')), names: await store.list('') };
}

/**
 * A finished run fails when more than `max_error_rate` of its documents errored, and always when
 * every one did (its outputs, stats.json and report.md are written first, to read why); a run
 * that keeps no document gets a warning.
 */
export function checkOutcome(config: RunConfig, stats: RunStats, store: RunStore): void {
  const t = stats.totals;
  const percent = (x: number) => `${Number((100 * x).toFixed(2))}%`;
  if (t.in > 0 && (t.errored === t.in || t.errored / t.in > config.maxErrorRate)) {
    const limit = t.errored === t.in ? 'every document errored' : `more than max_error_rate (${percent(config.maxErrorRate)}) allows`;
    throw new RefineryError(`${t.errored} of ${t.in} documents errored (${percent(t.errored / t.in)}): ${limit}; the errors are in ${store.where('errors')}/, the counts in stats.json`);
  }
  if (t.kept === 0) process.stderr.write(`refinery: warning: the run kept no document (${t.in} in: ${t.rejected} rejected, ${t.errored} errored); see ${store.where('report.md')}\n`);
}

/** What a command such as `refinery filter` or `refinery dedup` runs: stages over inputs. */
export interface StagesRun {
  inputs: string[];
  output: string;
  stages: { stage: string; options?: Record<string, unknown> }[];
  workers?: number;
  seed?: number;
  force?: boolean;
  quiet?: boolean;
  /** Relative paths in stage options resolve against it; default: the current folder. */
  baseDir?: string;
  /** Names the command in error messages, e.g. `refinery filter`. */
  origin?: string;
  /** Trial runs (pipeline/engine/trial.ts): the first `limit` records of each shard, a seeded `sample` share. */
  limit?: number;
  sample?: number;
}

/** The RunConfig of a command's stages over inputs. */
export async function stagesConfig(opts: StagesRun): Promise<RunConfig> {
  const baseDir = opts.baseDir ?? process.cwd();
  return prepareConfig(
    { inputs: opts.inputs, output: opts.output, stages: opts.stages, ...(opts.workers ? { workers: opts.workers } : {}), seed: opts.seed ?? 0, ...(opts.limit !== undefined ? { limit: opts.limit } : {}), ...(opts.sample !== undefined ? { sample: opts.sample } : {}) },
    { file: opts.origin ?? 'command line', baseDir },
  );
}

export async function runStages(opts: StagesRun): Promise<RunResult> {
  return runPipeline(await stagesConfig(opts), { force: opts.force ?? false, quiet: opts.quiet ?? false });
}
