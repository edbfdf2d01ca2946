/**
 * Executes one task of a run. This is the only code that runs stages; the local worker pool
 * and the queue worker both call `runTask` and know nothing of what it does.
 */
import type { Doc } from '../doc.ts';
import type { DocStage, GlobalStage, Stage, Verdict } from '../stage.ts';
import type { RunConfig } from '../config.ts';
import { loadPlugins, loadStage } from '../registry.ts';
import { readDocs } from '../io/read.ts';
import { DEFAULT_READER_OPTIONS, describeWhere, type ReadItem } from '../io/read-item.ts';
import { JsonlWriter } from '../io/jsonl-writer.ts';
import { LayoutWriter, documentLayout, type RecordWriter } from '../io/document-layout.ts';
import { ParquetDocWriter } from '../io/parquet-doc-writer.ts';
import { stableJson } from '../io/atomic.ts';
import { extensionFor } from '../io/compression.ts';
import { errorMessage, RefineryError } from '../errors.ts';
import { emptyStageStats, type ReadStats, type StageStats } from '../stats.ts';
import { inputName, layout, roundTasks, type Phase, type RunPlan, type Task } from './run-plan.ts';
import { measurePeakMemory } from './task-memory.ts';
import { trialItems } from './trial.ts';
import { routeByOverrides, type When } from './stage-overrides.ts';
import { folderFiles, type RunFiles } from '../run-folder/files.ts';
import { openRunStore } from '../run-folder/open-store.ts';
import type { RunStore, StoredIo } from '../run-folder/store.ts';

export interface TaskResult {
  task: Task;
  /** Present on process tasks of segment 0. */
  read?: ReadStats;
  /** Per-document stages run by a process task (the applier of a global stage first). */
  stages: StageStats[];
  /** Seconds spent in a map, reduce, step or finish task, charged to its global stage. */
  seconds: number;
  keptWritten: number;
  /** Work a task of a repeating step left for the next round (0: none). */
  pending?: number;
  /** Seconds the whole task took, and the peak of heap plus array buffers in its thread (task-memory.ts). */
  elapsed?: number;
  peak_bytes?: number;
  /** What the task moved to and from a bucket (files and bytes stored, read requests and bytes fetched); absent on a folder store. */
  stored?: StoredIo;
  /** Tasks this one did on the way (a process task runs the next global stage's map): their results, marked with it. */
  alongside?: TaskResult[];
}

export type ProgressFn = (docs: number, bytes: number) => void;

/** A stage of the config; `files` reads the run's files (a task's; by default the output folder's, for planning). */
export async function createStage(config: RunConfig, index: number, files: RunFiles = folderFiles): Promise<Stage> {
  await loadPlugins(config.plugins);
  const s = config.stages[index]!;
  const def = await loadStage(s.stage);
  if (!def) throw new RefineryError(`${config.file}: ${s.keyPath}: unknown stage "${s.stage}"`);
  return def.create(s.options, {
    baseDir: config.baseDir,
    outputDir: config.output,
    workDir: layout.stageWork(config.output, index, s.stage),
    files,
    seed: config.seed,
    keyPath: s.keyPath,
    ...(config.compat ? { compat: config.compat } : {}),
  });
}

export async function createGlobalStage(config: RunConfig, index: number, files: RunFiles): Promise<GlobalStage> {
  const stage = await createStage(config, index, files);
  if (stage.kind !== 'global') throw new RefineryError(`${config.stages[index]!.keyPath}: stage "${stage.name}" is not a global stage`);
  return stage;
}

async function createDocStage(config: RunConfig, index: number, files: RunFiles): Promise<DocStage> {
  const stage = await createStage(config, index, files);
  if (stage.kind === 'global') throw new RefineryError(`${config.stages[index]!.keyPath}: stage "${stage.name}" is global`);
  return stage;
}

/**
 * A per-document stage with its `overrides`: one instance per distinct option set (created as the
 * stage with those options), documents routed by the first matching `when`.
 */
async function createDocStageWithOverrides(config: RunConfig, index: number, files: RunFiles): Promise<DocStage> {
  const s = config.stages[index]!;
  const base = await createDocStage(config, index, files);
  if (!s.overrides?.length) return base;
  const byOptions = new Map<string, DocStage>([[stableJson(s.options), base]]);
  const variants: { when: When; stage: DocStage }[] = [];
  for (const o of s.overrides) {
    const key = stableJson(o.options);
    let stage = byOptions.get(key);
    if (!stage) {
      stage = await createDocStage({ ...config, stages: config.stages.map((e, i) => (i === index ? { ...e, options: o.options } : e)) }, index, files);
      byOptions.set(key, stage);
    }
    variants.push({ when: o.when, stage });
  }
  return routeByOverrides(base, variants);
}

const ext = (config: RunConfig) => extensionFor(config.compression);

async function* docsOf(items: AsyncIterable<ReadItem>): AsyncGenerator<Doc> {
  for await (const it of items) if (it.kind === 'doc') yield it.doc;
}

/** A writer that only creates its file when the first record arrives. */
class LazyWriter {
  private writer: JsonlWriter | null = null;
  constructor(private readonly path: string) {}
  async write(record: unknown): Promise<void> {
    this.writer ??= await JsonlWriter.open(this.path);
    await this.writer.write(record);
  }
  async close(): Promise<void> {
    await this.writer?.close();
  }
  async abort(): Promise<void> {
    await this.writer?.abort();
  }
}

const textBytes = (d: Doc) => Buffer.byteLength(d.text);

function docRecord(d: Doc): { id: string; text: string; meta: Record<string, unknown> } {
  return { id: d.id, text: d.text, meta: d.meta };
}

/** The open outputs of a process task: kept (or the next segment's input), rejected, errors. */
interface ProcessOutputs {
  kept: JsonlWriter | LayoutWriter<JsonlWriter> | ParquetDocWriter;
  rejected: LazyWriter | LayoutWriter<LazyWriter> | ParquetDocWriter;
  errors: LazyWriter;
}

/** A process task's stages (the applier of the segment's global stage first) and their counters. */
interface StageChain {
  stages: DocStage[];
  stats: StageStats[];
  /** Per stage: run in `mode: annotate`, its drops recorded as tags and the document kept. */
  annotate?: boolean[];
}

async function openStageChain(plan: RunPlan, task: Task, files: RunFiles): Promise<StageChain> {
  const { config } = plan;
  const segment = plan.segments[task.step]!;
  const stages: DocStage[] = [];
  if (segment.global !== null) {
    const applier = await (await createGlobalStage(config, segment.global, files)).applier({ index: task.index, count: plan.shards.length });
    stages.push(applier);
  }
  for (const i of segment.docStages) stages.push(await createDocStageWithOverrides(config, i, files));
  // The applier counts under its global stage's name and kind.
  const stats = stages.map((s, i) => (i === 0 && segment.global !== null ? emptyStageStats(config.stages[segment.global]!.stage, 'global') : emptyStageStats(s.name, s.kind)));
  const annotate = [...(segment.global !== null ? [segment.global] : []), ...segment.docStages].map((i) => config.stages[i]!.mode === 'annotate');
  return { stages, stats, annotate };
}

async function openOutputs(plan: RunPlan, task: Task): Promise<ProcessOutputs> {
  const { config } = plan;
  const k = task.step;
  const e = ext(config);
  const last = k === plan.segments.length - 1;
  // kept/ and rejected/ in the pipeline's output_format; what segments pass on stays Refinery's own.
  const docs = documentLayout(config.outputFormat ?? 'refinery');
  const inLayout = <W extends RecordWriter>(w: W, attributes?: W) => (docs.format === 'refinery' ? w : new LayoutWriter(w, docs, attributes));
  if (docs.format === 'parquet') {
    return {
      kept: last ? new ParquetDocWriter(docs.path(layout.kept(config.output, task.index, e))) : await JsonlWriter.open(layout.between(config.output, k, task.index)),
      rejected: new ParquetDocWriter(docs.path(layout.rejected(config.output, k, task.index, e)), { lazy: true }),
      errors: new LazyWriter(layout.errors(config.output, k, task.index, e)),
    };
  }
  const rejectedPath = layout.rejected(config.output, k, task.index, e);
  const keptWriter = async () => {
    const keptPath = layout.kept(config.output, task.index, e);
    const documents = await JsonlWriter.open(docs.path(keptPath));
    return inLayout(documents, docs.attributes ? await JsonlWriter.open(docs.attributes.path(keptPath)) : undefined);
  };
  return {
    kept: last ? await keptWriter() : await JsonlWriter.open(layout.between(config.output, k, task.index)),
    rejected: inLayout(new LazyWriter(docs.path(rejectedPath)), docs.attributes ? new LazyWriter(docs.attributes.path(rejectedPath)) : undefined),
    errors: new LazyWriter(layout.errors(config.output, k, task.index, e)),
  };
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

/**
 * One verdict per document of a batch. When the batch throws, each document is retried alone, so
 * that only the document that fails becomes an error.
 */
async function verdictsOf(stage: DocStage, batch: Doc[]): Promise<(Verdict | Error)[]> {
  try {
    const verdicts = await stage.process(batch);
    if (verdicts.length !== batch.length) throw new RefineryError(`stage ${stage.name} returned ${verdicts.length} verdicts for ${batch.length} documents`);
    return verdicts;
  } catch (err) {
    if (batch.length === 1) return [err as Error];
    const verdicts: (Verdict | Error)[] = [];
    for (const d of batch) {
      try {
        const v = await stage.process([d]);
        verdicts.push(v.length === 1 ? v[0]! : new RefineryError(`stage ${stage.name} returned ${v.length} verdicts for 1 document`));
      } catch (e1) {
        verdicts.push(e1 as Error);
      }
    }
    return verdicts;
  }
}

/**
 * `mode: annotate`: the verdict a stage would have given, as `meta.<stage>.would_drop` (stage name
 * with `_` for `-`, the object where the stage records its measurements), and the document is kept.
 * Returns an error when that meta field holds something other than an object.
 */
function tagWouldDrop(d: Doc, stage: string, rule: string, detail: string | undefined): Error | null {
  const key = stage.replace(/-/g, '_');
  const own = d.meta[key];
  if (own !== undefined && (own === null || typeof own !== 'object' || Array.isArray(own))) return new RefineryError(`mode: annotate: meta.${key} is not an object, so the would-be verdict of ${stage} cannot be recorded in it`);
  const tags = (own ?? (d.meta[key] = {})) as Record<string, unknown>;
  tags.would_drop = rule;
  if (detail !== undefined) tags.would_drop_detail = detail;
  return null;
}

/** Runs stage `si` of the chain over `docs`; writes what it rejects or fails on, returns what it keeps. */
async function runChainStage(chain: StageChain, si: number, docs: Doc[], out: ProcessOutputs): Promise<Doc[]> {
  const stage = chain.stages[si]!;
  const st = chain.stats[si]!;
  const size = Math.max(1, stage.batchSize ?? 1);
  const kept: Doc[] = [];
  const t0 = performance.now();
  for (let b = 0; b < docs.length; b += size) {
    const batch = docs.slice(b, b + size);
    st.in += batch.length;
    for (const d of batch) st.bytes_in += textBytes(d);
    const verdicts = await verdictsOf(stage, batch);
    for (let j = 0; j < batch.length; j++) {
      const d = batch[j]!;
      let v = verdicts[j]!;
      if (chain.annotate?.[si] && !(v instanceof Error) && !v.keep) v = tagWouldDrop(d, st.name, v.rule, v.detail) ?? { keep: true };
      if (v instanceof Error) {
        st.errored++;
        await out.errors.write({ id: d.id, stage: stage.name, error: errorMessage(v), text: d.text, meta: d.meta });
      } else if (v.keep) {
        st.kept++;
        st.bytes_out += textBytes(d);
        kept.push(d);
      } else {
        st.rejected++;
        st.reasons[v.rule] = (st.reasons[v.rule] ?? 0) + 1;
        d.meta.reject_reason = `${st.name}:${v.rule}`;
        if (v.detail !== undefined) d.meta.reject_detail = v.detail;
        await out.rejected.write(docRecord(d));
      }
    }
  }
  st.seconds += (performance.now() - t0) / 1000;
  return kept;
}

/** Reads the task's source in batches through the chain; returns the reading counts. */
async function streamThrough(source: AsyncIterable<ReadItem>, chain: StageChain, out: ProcessOutputs, progress?: ProgressFn, feed?: MapFeed): Promise<ReadStats> {
  const read: ReadStats = { docs: 0, errors: 0, bytes: 0 };
  const BATCH = Math.max(64, ...chain.stages.map((s) => s.batchSize ?? 1));
  let batch: Doc[] = [];
  const flush = async () => {
    let docs = batch;
    batch = [];
    for (let si = 0; si < chain.stages.length && docs.length; si++) docs = await runChainStage(chain, si, docs, out);
    for (const d of docs) await out.kept.write(docRecord(d));
    if (feed && docs.length) await feed.push(docs);
  };
  for await (const item of source) {
    if (item.kind === 'error') {
      read.errors++;
      await out.errors.write({ id: item.id ?? null, stage: 'read', error: item.error, where: describeWhere(item.where), ...(item.raw !== undefined ? { raw: item.raw } : {}) });
      continue;
    }
    read.docs++;
    read.bytes += textBytes(item.doc);
    batch.push(item.doc);
    if (batch.length >= BATCH) {
      await flush();
      progress?.(read.docs, read.bytes);
    }
  }
  await flush();
  progress?.(read.docs, read.bytes);
  return read;
}

/** A process task: one shard through one segment's per-document stages (after its global stage's applier). */
async function runProcess(plan: RunPlan, task: Task, files: RunFiles, progress?: ProgressFn): Promise<TaskResult> {
  const chain = await openStageChain(plan, task, files);
  const out = await openOutputs(plan, task);
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
  return { task, ...(task.step === 0 ? { read } : {}), stages: chain.stats, seconds: 0, keptWritten: out.kept.count, ...(alongside ? { alongside } : {}) };
}

/**
 * A global stage's map fed by a process task, batch by batch: `push` resolves once the map has
 * taken every document of the batch (so at most one batch is in flight), `end` once the map has
 * finished. `seconds` counts only the time the map spent on its documents and after the last.
 * The documents are the ones just written to the segment file, the same the map's own task would
 * read back from it.
 */
interface MapFeed {
  push(docs: Doc[]): Promise<void>;
  end(): Promise<void>;
  abort(err: unknown): void;
  readonly seconds: number;
}

async function startMap(plan: RunPlan, mapTask: Task, files: RunFiles): Promise<MapFeed> {
  const stage = await createGlobalStage(plan.config, plan.segments[mapTask.step]!.global!, files);
  let seconds = 0;
  let waiting: ((b: Doc[] | null) => void) | null = null;
  let pending: Doc[] | null | undefined; // a batch not yet taken; null: the end
  let taken: (() => void) | null = null;
  let failure: unknown = null;
  const next = () =>
    new Promise<Doc[] | null>((resolve) => {
      if (pending !== undefined) {
        const b = pending;
        pending = undefined;
        resolve(b);
      } else waiting = resolve;
    });
  async function* docs(): AsyncGenerator<Doc> {
    for (;;) {
      const b = await next();
      if (b === null) return;
      const t0 = performance.now();
      for (const d of b) yield d;
      seconds += (performance.now() - t0) / 1000;
      const t = taken;
      taken = null;
      t?.();
    }
  }
  const give = (b: Doc[] | null) => {
    if (waiting) {
      const w = waiting;
      waiting = null;
      w(b);
    } else pending = b;
  };
  let tEnd = 0;
  let finished = false;
  const done = stage.map({ index: mapTask.index, count: plan.shards.length }, docs()).then(
    () => {
      // A map that returns before the end of its documents does not hold up the task.
      finished = true;
      taken?.();
      if (tEnd) seconds += (performance.now() - tEnd) / 1000;
    },
    (e: unknown) => {
      failure ??= e;
      taken?.();
    },
  );
  const check = () => {
    if (failure) throw failure;
  };
  return {
    async push(b) {
      check();
      if (finished) return;
      await new Promise<void>((resolve) => {
        taken = resolve;
        give(b);
      });
      check();
    },
    async end() {
      check();
      tEnd = performance.now();
      give(null);
      await done;
      check();
    },
    abort(err) {
      failure ??= err;
      give(null);
    },
    get seconds() {
      return seconds;
    },
  };
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

const stores = new Map<string, Promise<RunStore>>();

/** The run's storage (one per output in a process). */
export function storeOf(config: RunConfig): Promise<RunStore> {
  const key = JSON.stringify([config.output, config.scratch ?? null, config.inputs]);
  let store = stores.get(key);
  if (!store) stores.set(key, (store = openRunStore(config)));
  return store;
}

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

/** Whether a round of a repeating phase left no work (its tasks' results). */
export function roundConverged(results: TaskResult[]): boolean {
  return results.every((r) => (r.pending ?? 0) === 0);
}

/**
 * The recorded results of a phase if every task of it finished (every round up to the one that
 * converged, for a repeating phase), else null.
 */
export async function finishedPhase(plan: RunPlan, phase: Phase): Promise<TaskResult[] | null> {
  const out: TaskResult[] = [];
  for (let round = 0; ; round++) {
    const results = await finishedTasks(plan, roundTasks(phase, round));
    if (results.some((r) => r === null)) return null;
    out.push(...(results as TaskResult[]));
    if (!phase.repeat || roundConverged(results as TaskResult[])) return out;
  }
}

/** The recorded result of a finished task, or null if it has not finished. */
export async function finishedTask(plan: RunPlan, task: Task): Promise<TaskResult | null> {
  const text = await (await storeOf(plan.config)).read(layout.markerKey(task));
  return text === null ? null : (JSON.parse(text) as TaskResult);
}

/**
 * The recorded results of these tasks (null for each unfinished one): one listing of the markers,
 * then the present markers read, eight at a time.
 */
export async function finishedTasks(plan: RunPlan, tasks: Task[]): Promise<(TaskResult | null)[]> {
  const store = await storeOf(plan.config);
  const present = new Set(await store.list('_work/tasks'));
  const out = new Array<TaskResult | null>(tasks.length).fill(null);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < tasks.length) {
        const i = next++;
        const key = layout.markerKey(tasks[i]!);
        if (!present.has(key.slice('_work/tasks/'.length))) continue;
        const text = await store.read(key);
        out[i] = text === null ? null : (JSON.parse(text) as TaskResult);
      }
    }),
  );
  return out;
}
