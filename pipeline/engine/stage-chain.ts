/**
 * A process task's chain of per-document stages: batches of documents through each stage in turn,
 * each verdict counted and acted on (sent on, written to rejected/ with its reason, or to errors/).
 */
import type { Doc } from '../doc.ts';
import type { DocStage, Verdict } from '../stage.ts';
import { describeWhere, type ReadItem } from '../io/read-item.ts';
import { errorMessage, RefineryError } from '../errors.ts';
import { emptyStageStats, type ReadStats, type StageStats } from '../stats.ts';
import type { RunPlan, Task } from './run-plan.ts';
import type { RunFiles } from '../run-folder/files.ts';
import { createDocStageWithOverrides, createGlobalStage } from './stage-instances.ts';
import { docRecord, textBytes, type ProcessOutputs } from './task-outputs.ts';
import type { BatchFeed } from './map-feed.ts';

/** Called as a task reads: documents and text bytes so far. */
export type ProgressFn = (docs: number, bytes: number) => void;

/** A process task's stages (the applier of the segment's global stage first) and their counters. */
export interface StageChain {
  stages: DocStage[];
  stats: StageStats[];
  /** Per stage: run in `mode: annotate`, its drops recorded as tags and the document kept. */
  annotate?: boolean[];
  /** Per stage: its position in the config's stage list. */
  at: number[];
}

export async function openStageChain(plan: RunPlan, task: Task, files: RunFiles): Promise<StageChain> {
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
  const at = [...(segment.global !== null ? [segment.global] : []), ...segment.docStages];
  const annotate = at.map((i) => config.stages[i]!.mode === 'annotate');
  return { stages, stats, annotate, at };
}

/**
 * One verdict per document of a batch. When the batch throws, each document is retried alone, so
 * that only the document that fails becomes an error. A stage whose `process` returns its verdicts
 * synchronously (most filters, one document a call) gets them back without a promise: one per
 * document per stage would be the task loop's main garbage.
 */
function verdictsOf(stage: DocStage, batch: Doc[]): (Verdict | Error)[] | Promise<(Verdict | Error)[]> {
  let result: Verdict[] | Promise<Verdict[]>;
  try {
    result = stage.process(batch);
  } catch (err) {
    return retryAlone(stage, batch, err);
  }
  if (!Array.isArray(result)) return result.then((v) => checkedCount(stage, batch, v)).catch((err: unknown) => retryAlone(stage, batch, err));
  try {
    return checkedCount(stage, batch, result);
  } catch (err) {
    return retryAlone(stage, batch, err);
  }
}

function checkedCount(stage: DocStage, batch: Doc[], verdicts: Verdict[]): Verdict[] {
  if (verdicts.length !== batch.length) throw new RefineryError(`stage ${stage.name} returned ${verdicts.length} verdicts for ${batch.length} documents`);
  return verdicts;
}

async function retryAlone(stage: DocStage, batch: Doc[], err: unknown): Promise<(Verdict | Error)[]> {
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

/**
 * Documents with the UTF-8 length of their text, measured once: the stages count bytes in and out,
 * and a text that a stage leaves as it was keeps its length.
 */
interface Sized {
  docs: Doc[];
  bytes: number[];
}

/** Runs stage `si` of the chain over `docs`; writes what it rejects or fails on, returns what it keeps. */
async function runChainStage(chain: StageChain, si: number, docs: Sized, out: ProcessOutputs): Promise<Sized> {
  const stage = chain.stages[si]!;
  const st = chain.stats[si]!;
  const size = Math.max(1, stage.batchSize ?? 1);
  const kept: Sized = { docs: [], bytes: [] };
  const t0 = performance.now();
  for (let b = 0; b < docs.docs.length; b += size) {
    const batch = docs.docs.slice(b, b + size);
    const texts = batch.map((d) => d.text);
    st.in += batch.length;
    for (let j = 0; j < batch.length; j++) st.bytes_in += docs.bytes[b + j]!;
    const got = verdictsOf(stage, batch);
    const verdicts = Array.isArray(got) ? got : await got;
    for (let j = 0; j < batch.length; j++) {
      const d = batch[j]!;
      let v = verdicts[j]!;
      if (chain.annotate?.[si] && !(v instanceof Error) && !v.keep) v = tagWouldDrop(d, st.name, v.rule, v.detail) ?? { keep: true };
      if (v instanceof Error) {
        st.errored++;
        await out.errors.write({ id: d.id, stage: stage.name, error: errorMessage(v), text: d.text, meta: d.meta });
        out.settle({ outcome: 'errored', doc: d, ...(chain.at[si] !== undefined ? { stage: chain.at[si] } : {}) });
      } else if (v.keep) {
        st.kept++;
        const bytes = d.text === texts[j] ? docs.bytes[b + j]! : textBytes(d);
        st.bytes_out += bytes;
        kept.docs.push(d);
        kept.bytes.push(bytes);
      } else {
        st.rejected++;
        st.reasons[v.rule] = (st.reasons[v.rule] ?? 0) + 1;
        d.meta.reject_reason = `${st.name}:${v.rule}`;
        if (v.detail !== undefined) d.meta.reject_detail = v.detail;
        const wait = out.rejected.write(docRecord(d));
        if (wait) await wait;
        out.settle({ outcome: 'rejected', doc: d, ...(chain.at[si] !== undefined ? { stage: chain.at[si] } : {}) });
      }
    }
  }
  st.seconds += (performance.now() - t0) / 1000;
  return kept;
}

/** Reads the task's source in batches through the chain; returns the reading counts. */
export async function streamThrough(source: AsyncIterable<ReadItem>, chain: StageChain, out: ProcessOutputs, progress?: ProgressFn, feed?: BatchFeed<Doc>): Promise<ReadStats> {
  const read: ReadStats = { docs: 0, errors: 0, bytes: 0 };
  const BATCH = Math.max(64, ...chain.stages.map((s) => s.batchSize ?? 1));
  let batch: Sized = { docs: [], bytes: [] };
  const flush = async () => {
    let sized = batch;
    batch = { docs: [], bytes: [] };
    for (let si = 0; si < chain.stages.length && sized.docs.length; si++) sized = await runChainStage(chain, si, sized, out);
    const docs = sized.docs;
    for (const d of docs) {
      const wait = out.kept.write(docRecord(d));
      if (wait) await wait;
      if (out.final) out.settle({ outcome: 'kept', doc: d });
    }
    if (feed && docs.length) await feed.push(docs);
  };
  for await (const item of source) {
    if (item.kind === 'error') {
      read.errors++;
      await out.errors.write({ id: item.id ?? null, stage: 'read', error: item.error, where: describeWhere(item.where), ...(item.raw !== undefined ? { raw: item.raw } : {}) });
      out.settle({ outcome: 'errored', doc: { id: item.id ?? '', text: item.raw ?? '', meta: {} }, unreadable: true });
      continue;
    }
    const bytes = textBytes(item.doc);
    read.docs++;
    read.bytes += bytes;
    batch.docs.push(item.doc);
    batch.bytes.push(bytes);
    if (batch.docs.length >= BATCH) {
      await flush();
      progress?.(read.docs, read.bytes);
    }
  }
  await flush();
  progress?.(read.docs, read.bytes);
  return read;
}

