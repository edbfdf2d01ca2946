/**
 * The report's views of single documents, from one pass over a run's kept/, rejected/ and
 * errors/: a seeded sample of examples per reject rule, the funnel per source and per language,
 * histograms of the measurements the stages write into `meta` (kept against rejected, with the
 * rule's threshold), and example duplicate clusters per dedup stage.
 */
import { estimateTokens } from '../census.ts';
import { exitStage, type RunRecord } from '../run-records.ts';
import { SeededReservoir, previewText } from '../inspect.ts';
import { isScoreField, measurementOf, rulesOfField, thresholdOf, type StageOptions } from './measures.ts';

export const EXAMPLES_PER_RULE = 5;
export const CLUSTER_EXAMPLES_PER_STAGE = 3;
const PREVIEW_CHARS = 280;
const HISTOGRAM_BINS = 20;

export interface RuleExample {
  id: string;
  source: string;
  language: string;
  preview: string;
  /** The rule's measurement (meta path), its value and threshold, where the stage records them. */
  field?: string;
  value?: number;
  threshold?: number;
  detail?: string;
}

export interface StageFunnelRow {
  stage: string;
  in: number;
  kept: number;
  rejected: number;
  errored: number;
  /** Tokens of the documents entering and leaving the stage, estimated from each document's final text. */
  tokens_in: number;
  tokens_out: number;
}

export interface HistogramBin {
  from: number;
  to: number;
  kept: number;
  rejected: number;
}

export interface Histogram {
  field: string;
  /** The rules that compare this measurement with a threshold (`stage:rule`). */
  rules: string[];
  /** The first threshold, for a single line on the chart; `thresholds` has every one. */
  threshold: number | null;
  thresholds: { rule: string; value: number; drops: 'above' | 'below' }[];
  kept: number;
  rejected: number;
  min: number;
  max: number;
  /** `log`: bins are spaced evenly on a log scale (heavy-tailed counts). */
  scale: 'linear' | 'log';
  /** The last bin also holds every value above its `to` (a long tail cut at the 99th percentile). */
  overflow: boolean;
  bins: HistogramBin[];
}

export interface ClusterExample {
  cluster: string;
  kept?: { id: string; preview: string };
  duplicates: { id: string; preview: string }[];
}

export interface DocumentViews {
  /** What the figures were computed from. */
  basis: string;
  examples: Record<string, RuleExample[]>;
  funnel_by_source: Record<string, StageFunnelRow[]>;
  funnel_by_language: Record<string, StageFunnelRow[]>;
  histograms: Record<string, Histogram>;
  cluster_examples: Record<string, ClusterExample[]>;
}

/** The meta key a stage records its measurements under: `gopher-quality` → `gopher_quality`. */
export function stageMetaKey(stage: string): string {
  return stage.replace(/-/g, '_');
}

const label = (v: unknown) => (typeof v === 'string' && v !== '' ? v : 'unknown');

function tokensOf(r: RunRecord): number {
  return typeof r.meta.num_tokens === 'number' ? r.meta.num_tokens : estimateTokens(r.text);
}

/** Numeric measurements of a record: top-level scores, and numbers a stage wrote in its own meta object. */
function measurements(meta: Record<string, unknown>, stageKeys: Set<string>): [string, number][] {
  const out: [string, number][] = [];
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v === 'number' && Number.isFinite(v)) {
      if (isScoreField(k) || k === 'num_tokens') out.push([k, v]);
    } else if (stageKeys.has(k) && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      // `threshold` beside a value (token-outlier) is the rule's limit, not a measurement.
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) if (k2 !== 'threshold' && typeof v2 === 'number' && Number.isFinite(v2)) out.push([`${k}.${k2}`, v2]);
    }
  }
  return out;
}

interface GroupCounts {
  /** Per stage index: documents that left there, rejected or errored, with their tokens. */
  rejected: number[];
  errored: number[];
  rejectedTokens: number[];
  erroredTokens: number[];
  kept: number;
  keptTokens: number;
}

function newGroup(stages: number): GroupCounts {
  const z = () => new Array<number>(stages).fill(0);
  return { rejected: z(), errored: z(), rejectedTokens: z(), erroredTokens: z(), kept: 0, keptTokens: 0 };
}

function funnelRows(g: GroupCounts, stages: string[]): StageFunnelRow[] {
  const rows: StageFunnelRow[] = [];
  let docs = g.kept + g.rejected.reduce((a, b) => a + b, 0) + g.errored.reduce((a, b) => a + b, 0);
  let tokens = g.keptTokens + g.rejectedTokens.reduce((a, b) => a + b, 0) + g.erroredTokens.reduce((a, b) => a + b, 0);
  for (const [i, stage] of stages.entries()) {
    const out = docs - g.rejected[i]! - g.errored[i]!;
    const tokensOut = tokens - g.rejectedTokens[i]! - g.erroredTokens[i]!;
    rows.push({ stage, in: docs, kept: out, rejected: g.rejected[i]!, errored: g.errored[i]!, tokens_in: tokens, tokens_out: tokensOut });
    docs = out;
    tokens = tokensOut;
  }
  return rows;
}

function quantile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))]!;
}

function histogram(field: string, kept: number[], rejected: number[], options: StageOptions, perDocThresholds: Set<number>): Histogram {
  const all = Float64Array.from([...kept, ...rejected]).sort();
  const min = all[0]!;
  const max = all[all.length - 1]!;
  const rules = rulesOfField(field);
  const thresholds: Histogram['thresholds'] = [];
  for (const rule of rules) {
    const t = thresholdOf(rule, undefined, options);
    const m = measurementOf(rule, {}, options);
    if (t !== undefined) thresholds.push({ rule, value: t, drops: m.drops ?? 'above' });
  }
  // token-outlier writes its threshold (a corpus quantile) beside each value; one line when there is one.
  if (thresholds.length === 0 && rules.length && perDocThresholds.size === 1) thresholds.push({ rule: rules[0]!, value: [...perDocThresholds][0]!, drops: 'above' });
  const median = quantile(all, 0.5);
  // Heavy-tailed counts (words, tokens, line lengths) get log-spaced bins, so that 50 and 50,000 both show.
  const log = min >= 0 && max >= 100 && max > 20 * Math.max(median, 1);
  let bins: HistogramBin[];
  let binOf: (v: number) => number;
  let overflow = false;
  if (log) {
    const start = Math.max(1, min);
    const ratio = Math.pow(max / start, 1 / HISTOGRAM_BINS) || 2;
    const edge = (i: number) => Number((start * Math.pow(ratio, i)).toPrecision(4));
    bins = Array.from({ length: HISTOGRAM_BINS }, (_, i) => ({ from: i === 0 ? Math.min(min, start) : edge(i), to: i === HISTOGRAM_BINS - 1 ? max : edge(i + 1), kept: 0, rejected: 0 }));
    binOf = (v) => (v <= start ? 0 : Math.max(0, Math.min(HISTOGRAM_BINS - 1, Math.floor(Math.log(v / start) / Math.log(ratio)))));
  } else {
    let lo = min;
    let hi = max;
    const p99 = quantile(all, 0.99);
    if (all.length >= 50 && p99 < lo + (max - lo) / 4) {
      hi = p99;
      overflow = true;
    }
    // A threshold inside the data but beyond the cut stays in view.
    for (const t of thresholds) if (t.value > hi && t.value <= max) hi = Math.min(max, t.value * 1.1);
    overflow = hi < max;
    // Counts and fractions read best from 0.
    if (lo > 0 && lo < (hi - lo) / 2) lo = 0;
    const integral = all.every((v) => Number.isInteger(v));
    let width = hi > lo ? (hi - lo) / HISTOGRAM_BINS : 1;
    if (integral) width = Math.max(1, Math.ceil(width));
    const count = hi > lo ? Math.max(1, Math.ceil((hi - lo) / width - 1e-9)) : 1;
    bins = Array.from({ length: count }, (_, i) => ({ from: lo + i * width, to: lo + (i + 1) * width, kept: 0, rejected: 0 }));
    binOf = (v) => Math.max(0, Math.min(count - 1, Math.floor((v - lo) / width)));
  }
  for (const v of kept) bins[binOf(v)]!.kept++;
  for (const v of rejected) bins[binOf(v)]!.rejected++;
  return { field, rules, threshold: thresholds[0]?.value ?? null, thresholds, kept: kept.length, rejected: rejected.length, min, max, scale: log ? 'log' : 'linear', overflow, bins };
}

/**
 * The document views of a run, from its records fed in order (kept/ first, then rejected/, then
 * errors/), at most `limit` of them. `stages` is the run's stage list (stats.json), in order.
 */
export class DocumentViewsCollector {
  private readonly stageIndex = new Map<string, number>();
  private readonly stageKeys: Set<string>;
  private readonly examples = new Map<string, SeededReservoir<RuleExample>>();
  private readonly bySource = new Map<string, GroupCounts>();
  private readonly byLanguage = new Map<string, GroupCounts>();
  private readonly values = new Map<string, { field: string; kept: number[]; rejected: number[] }>();
  private readonly perDocThresholds = new Map<string, Set<number>>();
  /** Per cluster id: the documents in it, the one kept first when seen. */
  private readonly clusters = new Map<string, { kept?: { id: string; preview: string }; duplicates: { id: string; preview: string }[] }>();
  private docs = 0;
  private truncated = false;
  private readonly folders = new Set<string>();

  constructor(
    private readonly stages: string[],
    private readonly options: StageOptions,
    private readonly limit: number,
    private readonly seed = 0,
  ) {
    stages.forEach((s, i) => this.stageIndex.has(s) || this.stageIndex.set(s, i));
    this.stageKeys = new Set(stages.map(stageMetaKey));
  }

  /** Takes the next record; false when `limit` records were taken already (the record is not). */
  add(r: RunRecord): boolean {
    if (this.docs >= this.limit) {
      this.truncated = true;
      return false;
    }
    this.docs++;
    this.folders.add(r.file.slice(0, r.file.indexOf('/')));
    const tokens = tokensOf(r);
    const exit = exitStage(r);
    const at = exit === undefined ? -1 : (this.stageIndex.get(exit) ?? -2);
    // Unreadable input records (stage "read") never reached a stage.
    if (at !== -2) {
      for (const [groups, key] of [[this.bySource, label(r.meta.source)], [this.byLanguage, label(r.meta.language)]] as const) {
        let g = groups.get(key);
        if (!g) groups.set(key, (g = newGroup(this.stages.length)));
        if (at === -1) {
          g.kept++;
          g.keptTokens += tokens;
        } else if (r.outcome === 'errored') {
          g.errored[at]!++;
          g.erroredTokens[at]! += tokens;
        } else {
          g.rejected[at]!++;
          g.rejectedTokens[at]! += tokens;
        }
      }
    }
    if (r.outcome === 'errored') return true;
    for (const [field, v] of measurements(r.meta, this.stageKeys)) {
      let entry = this.values.get(field);
      if (!entry) this.values.set(field, (entry = { field, kept: [], rejected: [] }));
      entry[r.outcome === 'kept' ? 'kept' : 'rejected'].push(v);
    }
    const outlier = r.meta.token_outlier as { threshold?: unknown } | undefined;
    if (typeof outlier?.threshold === 'number') {
      let s = this.perDocThresholds.get('token_outlier.kl');
      if (!s) this.perDocThresholds.set('token_outlier.kl', (s = new Set()));
      s.add(outlier.threshold);
    }
    const reason = r.meta.reject_reason;
    if (r.outcome === 'rejected' && typeof reason === 'string') {
      let sample = this.examples.get(reason);
      if (!sample) this.examples.set(reason, (sample = new SeededReservoir<RuleExample>(EXAMPLES_PER_RULE, this.seed)));
      const m = measurementOf(reason, r.meta, this.options);
      sample.add({
        id: r.id,
        source: label(r.meta.source),
        language: label(r.meta.language),
        preview: previewText(r.text, PREVIEW_CHARS),
        ...(m.field !== undefined ? { field: m.field } : {}),
        ...(m.value !== undefined ? { value: m.value } : {}),
        ...(m.threshold !== undefined ? { threshold: m.threshold } : {}),
        ...(typeof r.meta.reject_detail === 'string' ? { detail: r.meta.reject_detail } : {}),
      });
    }
    const cluster = r.meta.dedup_cluster;
    if (typeof cluster === 'string') {
      let c = this.clusters.get(cluster);
      if (!c) this.clusters.set(cluster, (c = { duplicates: [] }));
      const item = { id: r.id, preview: previewText(r.text, PREVIEW_CHARS) };
      if (typeof r.meta.duplicate_of === 'string') c.duplicates.push(item);
      else c.kept ??= item;
    }
    return true;
  }

  /** The views of the records taken; undefined when there were none. */
  views(): DocumentViews | undefined {
    if (this.docs === 0) return undefined;
    const clusterExamples: Record<string, ClusterExample[]> = {};
    const byStage = new Map<string, SeededReservoir<ClusterExample>>();
    for (const [id, c] of this.clusters) {
      if (c.duplicates.length === 0) continue;
      const stage = id.slice(0, id.lastIndexOf('/'));
      let sample = byStage.get(stage);
      if (!sample) byStage.set(stage, (sample = new SeededReservoir<ClusterExample>(CLUSTER_EXAMPLES_PER_STAGE, this.seed)));
      sample.add({ cluster: id, ...(c.kept ? { kept: c.kept } : {}), duplicates: c.duplicates });
    }
    for (const stage of [...byStage.keys()].sort()) clusterExamples[stage] = byStage.get(stage)!.values();

    const sortedObject = <T, R>(m: Map<string, T>, f: (v: T) => R): Record<string, R> => Object.fromEntries([...m.keys()].sort().map((k) => [k, f(m.get(k)!)]));
    return {
      basis: `${this.truncated ? `the first ${this.docs}` : `all ${this.docs}`} documents in ${[...this.folders].sort().map((f) => `${f}/`).join(', ')}`,
      examples: sortedObject(this.examples, (s) => s.values()),
      funnel_by_source: sortedObject(this.bySource, (g) => funnelRows(g, this.stages)),
      funnel_by_language: sortedObject(this.byLanguage, (g) => funnelRows(g, this.stages)),
      histograms: sortedObject(this.values, (v) => histogram(v.field, v.kept, v.rejected, this.options, this.perDocThresholds.get(v.field) ?? new Set())),
      cluster_examples: clusterExamples,
    };
  }
}
