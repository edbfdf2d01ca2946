/**
 * Executes one task of a run. This is the only code that runs stages; the local worker pool
 * and the queue worker both call `runTask` and know nothing of what it does.
 */
import type { Doc } from '../doc.ts';
import { readDocs } from '../io/read.ts';
import { DEFAULT_READER_OPTIONS, type ReadItem } from '../io/read-item.ts';
import { stableJson } from '../io/atomic.ts';
import { RefineryError } from '../errors.ts';
import type { ReadStats } from '../stats.ts';
import { inputName, layout, type RunPlan, type Task } from './run-plan.ts';
import { measurePeakMemory } from './task-memory.ts';
import { trialItems } from './trial.ts';
import type { RunFiles } from '../run-folder/files.ts';
import { createGlobalStage } from './stage-instances.ts';
import { openOutputs } from './task-outputs.ts';
import { openStageChain, streamThrough, type ProgressFn } from './stage-chain.ts';
import { startFeed, type BatchFeed } from './map-feed.ts';
import { storeOf, type TaskResult } from './markers.ts';
import { openTaskTallies } from './tallies.ts';

async function* docsOf(items: AsyncIterable<ReadItem>): AsyncGenerator<Doc> {
  for await (const it of items) if (it.kind === 'doc') yield it.doc;
}

/** Segment 0 reads the input shard; later segments read what the previous segment kept. */
async function sourceOf(plan: RunPlan, task: Task, files: RunFiles): Promise<AsyncIterable<ReadItem>> {
  const { config } = plan;
  if (task.step > 0) return readBetween(plan, task.step - 1, task.index, files);
  const input = plan.shards[task.index]!;
  const idPrefix = inputName(config, input.file);
  const items = readDocs(input.file, { ...config.reader, stripe: { part: input.part, parts: input.parts }, meta: input.meta, idPrefix });
  return trialItems(items, { seed: config.seed, ...(config.limit !== undefined ? { limit: config.limit } : {}), ...(config.sample !== undefined ? { sample: config.sample } : {}) }, idPrefix);
}

/** A process task: one shard through one segment's per-document stages (after its global stage's applier). */
async function runProcess(plan: RunPlan, task: Task, files: RunFiles, progress?: ProgressFn): Promise<TaskResult> {
  const chain = await openStageChain(plan, task, files);
  const tallies = await openTaskTallies(plan.config);
  const out = await openOutputs(plan, task, tallies.settle);
  // When a global stage follows this segment, its map runs here on the survivors as they are
  // written, rather than as a task that reads them back (one pass less over the corpus per global
  // stage). The map's own task is then marked finished with this one.
  const mapTask: Task | null = task.step < plan.segments.length - 1 ? { kind: 'map', step: task.step + 1, index: task.index } : null;
  const feed = mapTask ? await startMap(plan, mapTask, files) : undefined;
  let read: ReadStats;
  try {
    read = await streamThrough(await sourceOf(plan, task, files), chain, out, progress, feed);
    for (const s of chain.stages) await s.close?.();
    await out.rejected.close();
    await out.errors.close();
    await out.kept.close();
    await feed?.end();
  } catch (err) {
    feed?.abort(err);
    await out.kept.abort();
    await out.rejected.abort();
    await out.errors.abort();
    throw err;
  }
  const alongside = mapTask && feed ? [{ task: mapTask, stages: [], seconds: feed.seconds, keptWritten: 0, elapsed: feed.seconds }] : undefined;
  const parts = tallies.parts();
  return { task, ...(task.step === 0 ? { read } : {}), stages: chain.stats, seconds: 0, keptWritten: out.kept.count, ...(alongside ? { alongside } : {}), ...(parts ? { tallies: parts } : {}) };
}

/**
 * The next global stage's map, fed by a process task with the documents it has just written to
 * the segment file: the same the map's own task would read back from it.
 */
async function startMap(plan: RunPlan, mapTask: Task, files: RunFiles): Promise<BatchFeed<Doc>> {
  const stage = await createGlobalStage(plan.config, plan.segments[mapTask.step]!.global!, files);
  return startFeed<Doc>((docs) => stage.map({ index: mapTask.index, count: plan.shards.length }, docs));
}

/** The survivors of segment `step` in shard `shard`, which the next global stage's map and applier read. */
async function readBetween(plan: RunPlan, step: number, shard: number, files: RunFiles): Promise<AsyncIterable<ReadItem>> {
  const path = layout.between(plan.config.output, step, shard);
  if (!(await files.need(path))) throw new RefineryError(`${path}: missing (the task that writes it has a marker; was the run's storage changed?)`);
  return readDocs(path, DEFAULT_READER_OPTIONS);
}

async function runMap(plan: RunPlan, task: Task, files: RunFiles): Promise<TaskResult> {
  const t0 = performance.now();
  const stage = await createGlobalStage(plan.config, plan.segments[task.step]!.global!, files);
  await stage.map({ index: task.index, count: plan.shards.length }, docsOf(await readBetween(plan, task.step - 1, task.index, files)));
  return { task, stages: [], seconds: (performance.now() - t0) / 1000, keptWritten: 0 };
}

async function runReduce(plan: RunPlan, task: Task, files: RunFiles): Promise<TaskResult> {
  const t0 = performance.now();
  const stage = await createGlobalStage(plan.config, plan.segments[task.step]!.global!, files);
  await stage.reduce(task.index, plan.shards.length);
  return { task, stages: [], seconds: (performance.now() - t0) / 1000, keptWritten: 0 };
}

async function runStep(plan: RunPlan, task: Task, files: RunFiles): Promise<TaskResult> {
  const t0 = performance.now();
  const stage = await createGlobalStage(plan.config, plan.segments[task.step]!.global!, files);
  const step = stage.steps?.[task.sub ?? 0];
  if (!step) throw new RefineryError(`stage ${stage.name} has no step ${task.sub ?? 0} (its steps changed since the run was planned)`);
  const left = await step.run(task.index, task.round ?? 0, plan.shards.length);
  return { task, stages: [], seconds: (performance.now() - t0) / 1000, keptWritten: 0, ...(step.repeat ? { pending: left ?? 0 } : {}) };
}

async function runFinish(plan: RunPlan, task: Task, files: RunFiles): Promise<TaskResult> {
  const t0 = performance.now();
  const stage = await createGlobalStage(plan.config, plan.segments[task.step]!.global!, files);
  await stage.finish?.(plan.shards.length);
  return { task, stages: [], seconds: (performance.now() - t0) / 1000, keptWritten: 0 };
}

const runners = { process: runProcess, map: runMap, reduce: runReduce, step: runStep, finish: runFinish } as const;

/**
 * Runs a task in a task space of the run's storage and records it as finished: what it wrote is
 * stored whole first, then its marker (its statistics, time and peak memory), so a task killed at
 * any point leaves no marker and runs again, writing the same bytes.
 */
export async function runTask(plan: RunPlan, task: Task, progress?: ProgressFn): Promise<TaskResult> {
  const t0 = performance.now();
  const store = await storeOf(plan.config);
  const space = await store.openTask();
  try {
    const here = space.dir === plan.config.output ? plan : { ...plan, config: { ...plan.config, output: space.dir } };
    const { value: result, peakBytes } = await measurePeakMemory(() => runners[task.kind](here, task, space, progress));
    const sent = await space.commit();
    // A map run alongside counts in its own task's time, not in this one's.
    result.elapsed = (performance.now() - t0) / 1000 - (result.alongside ?? []).reduce((a, r) => a + r.seconds, 0);
    result.peak_bytes = peakBytes;
    if (sent.files || sent.gets) result.stored = sent;
    // The tasks done alongside are marked first: a crash in between leaves this task unmarked, and
    // its rerun redoes both, writing the same bytes.
    for (const r of result.alongside ?? []) await store.write(layout.markerKey(r.task), stableJson({ ...r, peak_bytes: peakBytes }));
    const { alongside: _, ...own } = result;
    await store.write(layout.markerKey(task), stableJson(own));
    return result;
  } finally {
    await space.close();
  }
}

