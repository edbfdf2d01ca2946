/**
 * What the report's sections read from a run, read once: stats.json, the tokenized manifest, the
 * mix plan and the documents' figures. Each part is optional: what the run did not produce is
 * reported as not run, never invented.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { bucketFileSchema } from '../census.ts';
import { manifestPaths } from '../shards/manifest-names.ts';
import { readStageOptions } from './measures.ts';
import { DocumentViewsCollector, type DocumentViews } from './documents.ts';
import { scanAndViews, SCAN_LIMIT_DEFAULT, type Scan } from './document-scan.ts';
import { folderFiles, type RunFiles } from '../../pipeline/run-folder/files.ts';

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
export const statsSchema = z.looseObject({
  totals: z.looseObject({ in: z.number(), kept: z.number(), rejected: z.number(), errored: z.number() }),
  stages: z.array(stageSchema).default([]),
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
export type PlanData = z.output<typeof planSchema>;

/** A bucket of the tokenized manifest: its key and what it holds. */
export interface ManifestBucket {
  source: string;
  category: string;
  language: string;
  quality_band: string;
  docs: number;
  tokens: number;
}

export interface RunSources {
  runDir: string;
  files: RunFiles;
  /** stats.json as read (undefined when absent), and parsed when it has the expected shape. */
  statsRaw: unknown;
  stats: z.output<typeof statsSchema> | undefined;
  /** The buckets of the tokenized manifest, and where the figures come from (`tokens in tokens/manifest.json`). */
  buckets?: ManifestBucket[];
  bucketsBasis: string;
  plan?: PlanData;
  /** The read of kept/ and rejected/; absent when the folder holds no document file. */
  keptScan?: Scan;
  rejectedScan?: Scan;
  /** Views of single documents; absent when no document was read. */
  views?: DocumentViews;
}

export async function readJsonIf(path: string, files: RunFiles): Promise<unknown | undefined> {
  try {
    if (!(await files.need(path))) return undefined;
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

async function findManifest(runDir: string, files: RunFiles): Promise<{ path: string; value: Record<string, unknown> } | undefined> {
  for (const p of [...manifestPaths(join(runDir, 'tokens')), ...manifestPaths(runDir)]) {
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

function str(v: unknown): string {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : 'unknown';
}

function rel(runDir: string, path: string): string {
  return path.startsWith(runDir) ? path.slice(runDir.length).replace(/^[/\\]/, '') : path;
}

function manifestBuckets(manifest: Record<string, unknown>): ManifestBucket[] | undefined {
  const parsed = bucketFileSchema.safeParse(manifest);
  if (!parsed.success) return undefined;
  return parsed.data.buckets.map((b) => ({ source: str(b.source), category: str(b.category), language: str(b.language), quality_band: str(b.quality_band), docs: b.docs, tokens: b.tokens }));
}

/** What the sections of the report of the run in `runDir` read; `files` reads the run (a bucket run's files are fetched as they are read). */
export async function openRunSources(runDir: string, options: { scanLimit?: number; seed?: number; files?: RunFiles } = {}): Promise<RunSources> {
  const limit = options.scanLimit ?? SCAN_LIMIT_DEFAULT;
  const files = options.files ?? folderFiles;
  const statsRaw = await readJsonIf(join(runDir, 'stats.json'), files);
  const manifest = await findManifest(runDir, files);
  const buckets = manifest ? manifestBuckets(manifest.value) : undefined;
  const plan = await findPlan(runDir, files, manifest?.value);
  const parsed = statsSchema.safeParse(statsRaw);
  const stats = parsed.success ? parsed.data : undefined;
  const collector = new DocumentViewsCollector(stats?.stages.map((s) => s.name) ?? [], await readStageOptions(runDir, files), limit, options.seed ?? 0);
  const { rejected: rejectedScan, kept: keptScan } = await scanAndViews(runDir, collector, limit, files);
  const views = collector.views();
  return {
    runDir,
    files,
    statsRaw,
    stats,
    ...(buckets ? { buckets } : {}),
    bucketsBasis: buckets && manifest ? `tokens in ${rel(runDir, manifest.path)}` : '',
    ...(plan ? { plan: plan.plan } : {}),
    ...(keptScan ? { keptScan } : {}),
    ...(rejectedScan ? { rejectedScan } : {}),
    ...(views ? { views } : {}),
  };
}
