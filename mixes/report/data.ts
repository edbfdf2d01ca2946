/**
 * Everything a run report shows, gathered from a run folder. Each part is optional: what the run
 * did not produce is reported as not run, never invented.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { readDocs } from '../../pipeline/io/read.ts';
import { bucketId, isNonEnglish } from '../bucket.ts';
import { bucketFileSchema, estimateTokens, BYTES_PER_TOKEN_ESTIMATE } from '../census.ts';
import { isScoreField, readStageOptions } from './measures.ts';
import { runRecords, shardFiles, type Outcome } from '../run-records.ts';
import { DocumentViewsCollector, type ClusterExample, type Histogram, type RuleExample, type StageFunnelRow } from './documents.ts';
import { folderFiles, type RunFiles } from '../../pipeline/run-folder/files.ts';

export { isScoreField, SCORE_FIELD_NAMES } from './measures.ts';

/** Documents read from kept/ and rejected/ for the language, score and per-rule token figures. */
export const SCAN_LIMIT_DEFAULT = 200_000;
const SCORE_BINS = 20;

const stageSchema = z.looseObject({
  name: z.string(),
  kind: z.string().default('unknown'),
  in: z.number().default(0),
  kept: z.number().default(0),
  rejected: z.number().default(0),
  errored: z.number().default(0),
  bytes_in: z.number().default(0),
  bytes_out: z.number().default(0),
  seconds: z.number().default(0),
  reasons: z.record(z.string(), z.number()).default({}),
});
const statsSchema = z.looseObject({
  totals: z.looseObject({ in: z.number(), kept: z.number(), rejected: z.number(), errored: z.number() }),
  stages: z.array(stageSchema).default([]),
});
const dedupSchema = z.looseObject({
  settings: z.looseObject({ model: z.string().optional() }).optional(),
  clusters: z.number(),
  cluster_size_histogram: z.record(z.string(), z.number()).default({}),
  removed_docs: z.number().optional(),
  removed_bytes: z.number().optional(),
  docs_in: z.number().optional(),
});
const shareLineSchema = z.looseObject({ natural: z.number(), planned: z.number(), min: z.number().optional(), max: z.number().optional(), available_tokens: z.number(), planned_tokens: z.number() });
const planSchema = z.looseObject({
  status: z.string(),
  total_tokens: z.number(),
  planned_tokens: z.number(),
  shares: z.looseObject({
    category: z.record(z.string(), shareLineSchema),
    non_english: shareLineSchema,
    source: z.record(z.string(), shareLineSchema.extend({ epochs: z.number() })),
  }),
  constraints: z.array(z.looseObject({ key: z.string(), kind: z.string(), bound: z.string(), binding: z.boolean(), shortfall_tokens: z.number(), message: z.string() })),
  buckets: z.array(z.looseObject({ id: z.string(), tokens: z.number(), cut: z.number().optional() })).default([]),
});
type PlanData = z.output<typeof planSchema>;

export interface Missing {
  available: false;
  /** Why the section is empty, e.g. "not run: no stats.json". */
  note: string;
}

export interface FunnelSection {
  available: true;
  totals: { in: number; kept: number; rejected: number; errored: number };
  stages: {
    name: string;
    kind: string;
    in: number;
    kept: number;
    rejected: number;
    errored: number;
    bytes_removed: number;
    /** bytes_removed / BYTES_PER_TOKEN_ESTIMATE (covers mappers that remove lines, too). */
    tokens_removed_estimate: number;
    /** Tokens of this stage's documents in rejected/, when it was read. */
    tokens_rejected?: number;
    seconds: number;
  }[];
  rules: { stage: string; rule: string; docs: number; tokens?: number }[];
  /** Where per-rule tokens come from, when rejected/ was read. */
  rule_tokens_note?: string;
}

export interface DedupSection {
  available: true;
  stages: { stage: string; clusters: number; model?: string; removed_docs?: number; removed_bytes?: number; docs_in?: number; histogram: { size: string; clusters: number }[]; examples?: ClusterExample[] }[];
}

export interface CountSection {
  available: true;
  /** What the counts are of, e.g. "tokens in tokens/manifest.json". */
  basis: string;
  /** `programming`: a language of source code (category code), shown apart from human languages. */
  rows: { name: string; docs: number; tokens: number; kind: 'natural' | 'programming' }[];
}

export interface ScoreSection {
  available: true;
  basis: string;
  /** Documents read; a field's `count` is how many of them carry it. */
  docs: number;
  fields: { field: string; count: number; min: number; max: number; mean: number; bins: { from: number; to: number; docs: number }[] }[];
}

export interface BucketSection {
  available: true;
  basis: string;
  rows: { source: string; category: string; language: string; quality_band: string; docs: number; tokens: number }[];
}

export interface SharesSection {
  available: true;
  plan_status: string;
  rows: { name: string; natural: number; planned: number; achieved?: number; min?: number; max?: number }[];
  /** Per bucket: tokens the plan draws and the manifest holds; `cut` when the sampler cut the bucket (within one document). */
  buckets: { id: string; planned_tokens: number; achieved_tokens?: number; cut: boolean }[];
}

export interface EpochsSection {
  available: true;
  rows: { source: string; available_tokens: number; planned_epochs: number; achieved_epochs?: number }[];
}

export interface ConstraintsSection {
  available: true;
  rows: { key: string; kind: string; bound: string; shortfall_tokens: number; message: string }[];
}

export interface RunReport {
  version: 1;
  run_dir: string;
  funnel: FunnelSection | Missing;
  /** What `examples`, the per-source and per-language funnels and `histograms` were computed from, or why they are empty. */
  documents_basis: string;
  /** Per reject reason `stage:rule`, a seeded sample of the rejected documents. */
  examples: Record<string, RuleExample[]>;
  /** Per source (meta.source) and per language (meta.language), the funnel stage by stage. */
  funnel_by_source: Record<string, StageFunnelRow[]>;
  funnel_by_language: Record<string, StageFunnelRow[]>;
  /** Per numeric measurement in meta (`gopher_quality.words`, `language_score` ...), kept against rejected. */
  histograms: Record<string, Histogram>;
  dedup: DedupSection | Missing;
  languages: CountSection | Missing;
  quality_scores: ScoreSection | Missing;
  buckets: BucketSection | Missing;
  shares: SharesSection | Missing;
  epochs: EpochsSection | Missing;
  binding_constraints: ConstraintsSection | Missing;
}

async function readJsonIf(path: string, files: RunFiles): Promise<unknown | undefined> {
  try {
    if (!(await files.need(path))) return undefined;
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

/** The document files below `dir`, in name order (a name that is not a document file is looked into as a folder). */
async function docFiles(dir: string, files: RunFiles): Promise<string[]> {
  const out: string[] = [];
  for (const name of await files.list(dir)) {
    const p = join(dir, name);
    if (/\.(jsonl|parquet)(\.gz|\.zst)?$/i.test(name)) out.push(p);
    else out.push(...(await docFiles(p, files)));
  }
  return out;
}

interface Scan {
  docs: number;
  truncated: boolean;
  languages: Map<string, { docs: number; tokens: number; code: number }>;
  scores: Map<string, number[]>;
  rules: Map<string, { docs: number; tokens: number }>;
}

function numericScores(meta: Record<string, unknown>): [string, number][] {
  const out: [string, number][] = [];
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v === 'number' && Number.isFinite(v) && isScoreField(k)) out.push([k, v]);
    else if (k === 'scores' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) if (typeof v2 === 'number' && Number.isFinite(v2)) out.push([`scores.${k2}`, v2]);
    }
  }
  return out;
}

const newScan = (): Scan => ({ docs: 0, truncated: false, languages: new Map(), scores: new Map(), rules: new Map() });

/** Counts one more document into the scan; false when `limit` documents were counted already (this one is not). */
function scanDoc(scan: Scan, doc: { text: string; meta: Record<string, unknown> }, limit: number): boolean {
  if (scan.docs >= limit) {
    scan.truncated = true;
    return false;
  }
  scan.docs++;
  const { meta, text } = doc;
  const tokens = typeof meta.num_tokens === 'number' ? meta.num_tokens : estimateTokens(text);
  const lang = typeof meta.language === 'string' && meta.language ? meta.language : 'unknown';
  const l = scan.languages.get(lang) ?? { docs: 0, tokens: 0, code: 0 };
  l.docs++;
  l.tokens += tokens;
  if (meta.category === 'code') l.code++;
  scan.languages.set(lang, l);
  for (const [k, v] of numericScores(meta)) {
    const list = scan.scores.get(k) ?? [];
    list.push(v);
    scan.scores.set(k, list);
  }
  if (typeof meta.reject_reason === 'string') {
    const r = scan.rules.get(meta.reject_reason) ?? { docs: 0, tokens: 0 };
    r.docs++;
    r.tokens += tokens;
    scan.rules.set(meta.reject_reason, r);
  }
  return true;
}

async function scanDocs(dir: string, limit: number, run: RunFiles): Promise<Scan | undefined> {
  const files = await docFiles(dir, run);
  if (files.length === 0) return undefined;
  const scan = newScan();
  outer: for (const f of files) {
    await run.need(f);
    for await (const item of readDocs(f)) {
      if (item.kind === 'doc' && !scanDoc(scan, item.doc, limit)) break outer;
    }
  }
  return scan;
}

/**
 * The scans of kept/ and rejected/ and the document views, in one read of each folder whose
 * document files are the shards run-records.ts reads (the `refinery`, `datatrove` and `parquet`
 * layouts): the records a run writes there read as the same documents through the input reader as
 * through run-records.ts, so that reader (faster) serves both. A folder with other files too
 * (Dolma's attributes/ beside documents/) is scanned apart, and errors/ is read as run records.
 */
async function scanAndViews(runDir: string, views: DocumentViewsCollector, limit: number, run: RunFiles): Promise<{ rejected?: Scan; kept?: Scan }> {
  const scans: { rejected?: Scan; kept?: Scan } = {};
  const sharedFiles = new Map<Outcome, string[]>();
  for (const outcome of ['kept', 'rejected'] as const) {
    const dir = join(runDir, outcome);
    const files = await docFiles(dir, run);
    const shards = await shardFiles(runDir, outcome, run);
    if (files.length === shards.length && files.every((f, i) => f === join(runDir, shards[i]!))) {
      sharedFiles.set(outcome, shards);
      scans[outcome] = files.length ? newScan() : undefined;
    } else scans[outcome] = await scanDocs(dir, limit, run);
  }
  let viewing = true;
  for (const outcome of ['kept', 'rejected', 'errored'] as const) {
    const shards = sharedFiles.get(outcome);
    if (shards === undefined) {
      if (!viewing) continue;
      for await (const r of runRecords(runDir, [outcome], run)) if (!(viewing = views.add(r))) break;
      continue;
    }
    const scan = scans[outcome as 'kept' | 'rejected'];
    let scanning = scan !== undefined;
    outer: for (const file of shards) {
      await run.need(join(runDir, file));
      for await (const item of readDocs(join(runDir, file))) {
        if (item.kind !== 'doc') continue;
        const { id, text, meta } = item.doc;
        viewing &&= views.add({ outcome, file, id, text, meta });
        scanning &&= scanDoc(scan!, item.doc, limit);
        if (!viewing && !scanning) break outer;
      }
    }
  }
  return scans;
}

function histogramOf(values: number[]): ScoreSection['fields'][number]['bins'] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min >= 0 && max <= 1) {
    min = 0;
    max = 1;
  }
  const width = max > min ? (max - min) / SCORE_BINS : 1;
  const bins = Array.from({ length: max > min ? SCORE_BINS : 1 }, (_, i) => ({ from: min + i * width, to: min + (i + 1) * width, docs: 0 }));
  for (const v of values) bins[Math.min(bins.length - 1, Math.floor((v - min) / width))]!.docs++;
  return bins;
}

function scanBasis(dir: string, scan: Scan): string {
  return `${scan.truncated ? `the first ${scan.docs}` : `all ${scan.docs}`} documents in ${dir}/`;
}

async function findManifest(runDir: string, files: RunFiles): Promise<{ path: string; value: Record<string, unknown> } | undefined> {
  for (const p of [join(runDir, 'tokens', 'manifest.json'), join(runDir, 'manifest.json')]) {
    const v = await readJsonIf(p, files);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return { path: p, value: v as Record<string, unknown> };
  }
  return undefined;
}

async function findPlan(runDir: string, files: RunFiles, manifest?: Record<string, unknown>): Promise<{ path: string; plan: PlanData } | undefined> {
  const candidates = [join(runDir, 'plan.json'), join(runDir, 'tokens', 'plan.json')];
  const ref = manifest?.plan;
  if (ref !== null && typeof ref === 'object' && typeof (ref as { path?: unknown }).path === 'string') {
    const p = (ref as { path: string }).path;
    candidates.push(isAbsolute(p) ? p : resolve(p), resolve(runDir, p), resolve(runDir, 'tokens', p));
  }
  for (const p of candidates) {
    const parsed = planSchema.safeParse(await readJsonIf(p, files));
    if (parsed.success) return { path: p, plan: parsed.data };
  }
  return undefined;
}

const missing = (note: string): Missing => ({ available: false, note });

type ManifestBucket = BucketSection['rows'][number];

/** The report's data of the run in `runDir`; `files` reads the run (a bucket run's files are fetched as the report reads them). */
export async function collectRunReport(runDir: string, options: { scanLimit?: number; seed?: number; files?: RunFiles } = {}): Promise<RunReport> {
  const limit = options.scanLimit ?? SCAN_LIMIT_DEFAULT;
  const files = options.files ?? folderFiles;
  const statsRaw = await readJsonIf(join(runDir, 'stats.json'), files);
  const dedupStages = await dedupStageStats(join(runDir, 'stats'), files);
  const manifest = await findManifest(runDir, files);
  const buckets = manifest ? manifestBuckets(manifest.value) : undefined;
  const basis = buckets ? `tokens in ${rel(runDir, manifest!.path)}` : '';
  const plan = await findPlan(runDir, files, manifest?.value);
  const planned = plan ? planSections(plan.plan, buckets) : undefined;
  const noPlan = missing('not run: no plan.json (refinery mix plan) in the run folder or referenced by the manifest');
  const stats = statsSchema.safeParse(statsRaw);
  const stageNames = stats.success ? stats.data.stages.map((s) => s.name) : [];
  const collector = new DocumentViewsCollector(stageNames, await readStageOptions(runDir, files), limit, options.seed ?? 0);
  const { rejected: rejectedScan, kept: keptScan } = await scanAndViews(runDir, collector, limit, files);
  const views = collector.views();
  for (const d of dedupStages) {
    const examples = views?.cluster_examples[d.stage];
    if (examples?.length) d.examples = examples;
  }

  return {
    version: 1,
    run_dir: runDir,
    funnel: funnelSection(statsRaw, rejectedScan),
    documents_basis: views ? views.basis : 'not run: no documents in kept/, rejected/ or errors/',
    examples: views?.examples ?? {},
    funnel_by_source: stageNames.length ? (views?.funnel_by_source ?? {}) : {},
    funnel_by_language: stageNames.length ? (views?.funnel_by_language ?? {}) : {},
    histograms: views?.histograms ?? {},
    dedup: dedupStages.length ? { available: true, stages: dedupStages } : missing('not run: no stats/<stage>.json with clusters'),
    languages: languagesSection(buckets, basis, keptScan),
    quality_scores: qualitySection(keptScan),
    buckets: buckets ? { available: true, basis, rows: buckets } : missing('not run: no tokens/manifest.json'),
    shares: planned?.shares ?? noPlan,
    epochs: planned?.epochs ?? noPlan,
    binding_constraints: planned?.binding_constraints ?? noPlan,
  };
}

function funnelSection(statsRaw: unknown, rejectedScan: Scan | undefined): RunReport['funnel'] {
  const stats = statsSchema.safeParse(statsRaw);
  if (!stats.success) return missing(statsRaw === undefined ? 'not run: no stats.json in the run folder' : 'stats.json is not in the expected shape');
  const rules: FunnelSection['rules'] = [];
  for (const s of stats.data.stages) {
    for (const [rule, docs] of Object.entries(s.reasons)) {
      const t = rejectedScan?.rules.get(`${s.name}:${rule}`);
      rules.push({ stage: s.name, rule, docs, ...(t ? { tokens: t.tokens } : {}) });
    }
  }
  rules.sort((a, b) => b.docs - a.docs || (a.stage + a.rule < b.stage + b.rule ? -1 : 1));
  return {
    available: true,
    totals: { in: stats.data.totals.in, kept: stats.data.totals.kept, rejected: stats.data.totals.rejected, errored: stats.data.totals.errored },
    stages: stats.data.stages.map((s) => {
      const removed = Math.max(0, s.bytes_in - s.bytes_out);
      const rejectedTokens = rejectedScan
        ? [...rejectedScan.rules.entries()].filter(([reason]) => reason.startsWith(`${s.name}:`)).reduce((a, [, v]) => a + v.tokens, 0)
        : undefined;
      return {
        name: s.name,
        kind: s.kind,
        in: s.in,
        kept: s.kept,
        rejected: s.rejected,
        errored: s.errored,
        bytes_removed: removed,
        tokens_removed_estimate: Math.round(removed / BYTES_PER_TOKEN_ESTIMATE),
        ...opt('tokens_rejected', rejectedTokens),
        seconds: s.seconds,
      };
    }),
    rules,
    ...(rejectedScan ? { rule_tokens_note: `from ${scanBasis('rejected', rejectedScan)} (meta.num_tokens, else UTF-8 bytes / ${BYTES_PER_TOKEN_ESTIMATE})` } : {}),
  };
}

async function dedupStageStats(statsDir: string, files: RunFiles): Promise<DedupSection['stages']> {
  const out: DedupSection['stages'] = [];
  for (const f of (await files.list(statsDir)).filter((n) => n.endsWith('.json'))) {
    const d = dedupSchema.safeParse(await readJsonIf(join(statsDir, f), files));
    if (!d.success) continue;
    const histogram = Object.entries(d.data.cluster_size_histogram)
      .map(([size, clusters]) => ({ size, clusters }))
      .sort((a, b) => parseInt(a.size, 10) - parseInt(b.size, 10));
    out.push({ stage: f.replace(/\.json$/, ''), clusters: d.data.clusters, histogram, ...pick(d.data, ['removed_docs', 'removed_bytes', 'docs_in']), ...(d.data.settings?.model ? { model: d.data.settings.model } : {}) });
  }
  return out;
}

function manifestBuckets(manifest: Record<string, unknown>): ManifestBucket[] | undefined {
  const parsed = bucketFileSchema.safeParse(manifest);
  if (!parsed.success) return undefined;
  return parsed.data.buckets.map((b) => ({ source: str(b.source), category: str(b.category), language: str(b.language), quality_band: str(b.quality_band), docs: b.docs, tokens: b.tokens }));
}

function languagesSection(buckets: ManifestBucket[] | undefined, basis: string, keptScan: Scan | undefined): RunReport['languages'] {
  if (buckets) {
    const m = new Map<string, { docs: number; tokens: number; code: number }>();
    for (const b of buckets) {
      const r = m.get(b.language) ?? { docs: 0, tokens: 0, code: 0 };
      r.docs += b.docs;
      r.tokens += b.tokens;
      if (b.category === 'code') r.code += b.docs;
      m.set(b.language, r);
    }
    return { available: true, basis, rows: sortedRows(m) };
  }
  if (keptScan) {
    return { available: true, basis: `${scanBasis('kept', keptScan)} (meta.num_tokens, else UTF-8 bytes / ${BYTES_PER_TOKEN_ESTIMATE})`, rows: sortedRows(keptScan.languages) };
  }
  return missing('not run: no tokens/manifest.json and no documents in kept/');
}

function qualitySection(keptScan: Scan | undefined): RunReport['quality_scores'] {
  if (!keptScan) return missing('not run: no documents in kept/');
  if (keptScan.scores.size === 0) return missing('no numeric quality or *score* fields in the kept documents\' meta');
  return {
    available: true,
    basis: scanBasis('kept', keptScan),
    docs: keptScan.docs,
    fields: [...keptScan.scores.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([field, values]) => ({
      field,
      count: values.length,
      min: Math.min(...values),
      max: Math.max(...values),
      mean: values.reduce((a, b) => a + b, 0) / values.length,
      bins: histogramOf(values),
    })),
  };
}

/** Planned against achieved: the plan's shares and epochs, with what the manifest's buckets hold. */
function planSections(plan: PlanData, buckets: ManifestBucket[] | undefined): Pick<RunReport, 'shares' | 'epochs' | 'binding_constraints'> {
  const achievedTotal = buckets?.reduce((a, b) => a + b.tokens, 0) ?? 0;
  const achievedBy = (pred: (b: ManifestBucket) => boolean) =>
    buckets && achievedTotal > 0 ? buckets.filter(pred).reduce((a, b) => a + b.tokens, 0) / achievedTotal : undefined;
  const rows: SharesSection['rows'] = Object.entries(plan.shares.category).map(([name, s]) => ({
    name,
    natural: s.natural,
    planned: s.planned,
    ...opt('achieved', achievedBy((b) => b.category === name)),
    ...opt('min', s.min),
    ...opt('max', s.max),
  }));
  const ne = plan.shares.non_english;
  rows.push({ name: 'non_english', natural: ne.natural, planned: ne.planned, ...opt('achieved', achievedBy((b) => isNonEnglish(b.language, b.category))), ...opt('min', ne.min), ...opt('max', ne.max) });
  const achievedOf = new Map<string, number>();
  for (const b of buckets ?? []) {
    const id = bucketId(b);
    achievedOf.set(id, (achievedOf.get(id) ?? 0) + b.tokens);
  }
  const bucketRows = plan.buckets
    .filter((b) => b.tokens > 0 || achievedOf.has(b.id))
    .map((b) => ({ id: b.id, planned_tokens: b.tokens, ...opt('achieved_tokens', buckets ? (achievedOf.get(b.id) ?? 0) : undefined), cut: b.cut !== undefined }));
  return {
    shares: { available: true, plan_status: plan.status, rows, buckets: bucketRows },
    epochs: {
      available: true,
      rows: Object.entries(plan.shares.source).map(([source, s]) => {
        const achievedTokens = buckets?.filter((b) => b.source === source).reduce((a, b) => a + b.tokens, 0);
        return {
          source,
          available_tokens: s.available_tokens,
          planned_epochs: s.epochs,
          ...opt('achieved_epochs', achievedTokens !== undefined && s.available_tokens > 0 ? achievedTokens / s.available_tokens : undefined),
        };
      }),
    },
    binding_constraints: {
      available: true,
      rows: plan.constraints.filter((c) => c.binding).map((c) => ({ key: c.key, kind: c.kind, bound: c.bound, shortfall_tokens: c.shortfall_tokens, message: c.message })),
    },
  };
}

function str(v: unknown): string {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : 'unknown';
}

function rel(runDir: string, path: string): string {
  return path.startsWith(runDir) ? path.slice(runDir.length).replace(/^[/\\]/, '') : path;
}

/** A language is a programming language when most of its documents are of category code. */
function sortedRows(m: Map<string, { docs: number; tokens: number; code: number }>): CountSection['rows'] {
  return [...m.entries()].map(([name, v]) => ({ name, docs: v.docs, tokens: v.tokens, kind: v.code * 2 > v.docs ? ('programming' as const) : ('natural' as const) })).sort((a, b) => b.tokens - a.tokens || (a.name < b.name ? -1 : 1));
}

function opt<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}

function pick<T extends Record<string, unknown>, K extends keyof T>(obj: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}
