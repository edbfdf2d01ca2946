/**
 * What the report's sections read from a run, read once: stats.json, the tokenized manifest, the
 * mix plan, the stages' settings and the tally of the documents (tallies/report.json, written by
 * the run's tasks as they settled each document; read back from kept/, rejected/ and errors/ only
 * for a run folder without it). Each part is optional: what the run did not produce is reported
 * as not run, never invented.
 */
import { isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { planSchema, statsSchema, type ManifestBucket, type PlanData } from './run-schemas.ts';
import { readJsonIf } from './run-files.ts';
import type { RunSources } from './section.ts';
import { bucketFileSchema } from '../census.ts';
import { manifestPaths } from '../shards/manifest-names.ts';
import { readStageOptions, type StageOptions } from './measures.ts';
import { exitStage, runRecords, OUTCOME_FOLDERS } from '../run-records.ts';
import { createReportTally, REPORT_TALLY_FILE, type ReportTally } from './tally.ts';
import { folderFiles, type RunFiles } from '../../pipeline/run-folder/files.ts';

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

const tallySchema = z.object({ version: z.literal(1), documents: z.object({ kept: z.number(), rejected: z.number(), errored: z.number() }), sections: z.record(z.string(), z.unknown()) });

/** The tally of a run folder without tallies/report.json: its documents read back through the same counters. */
async function readBackTally(runDir: string, files: RunFiles, stageNames: string[], settings: StageOptions, seed: number): Promise<{ tally: ReportTally; unread: number }> {
  const tally = createReportTally({ stages: stageNames, settings, seed });
  const index = new Map<string, number>();
  stageNames.forEach((name, i) => index.has(name) || index.set(name, i));
  let unread = 0;
  for await (const r of runRecords(runDir, ['kept', 'rejected', 'errored'], files, () => unread++)) {
    const exit = exitStage(r);
    const stage = exit === undefined ? undefined : index.get(exit);
    tally.add({ outcome: r.outcome, doc: { id: r.id, text: r.text, meta: r.meta }, ...(stage !== undefined ? { stage } : {}), ...(r.outcome === 'errored' && r.stage === 'read' ? { unreadable: true } : {}) });
  }
  return { tally: tally.part(), unread };
}

function documentsOf(tally: ReportTally, where: string): RunSources['documents'] {
  const counts = tally.documents;
  if (counts.kept + counts.rejected + counts.errored === 0) return undefined;
  return {
    ...counts,
    basisOf(outcomes) {
      const present = outcomes.filter((o) => counts[o] > 0);
      const total = present.reduce((a, o) => a + counts[o], 0);
      return `all ${total.toLocaleString('en-US')} documents in ${present.map((o) => `${OUTCOME_FOLDERS[o]}/`).sort().join(', ')}, ${where}`;
    },
  };
}

/** What the sections of the report of the run in `runDir` read; `files` reads the run (a bucket run's files are fetched as they are read). */
export async function openRunSources(runDir: string, options: { seed?: number; files?: RunFiles } = {}): Promise<RunSources> {
  const files = options.files ?? folderFiles;
  const statsRaw = await readJsonIf(join(runDir, 'stats.json'), files);
  const manifest = await findManifest(runDir, files);
  const buckets = manifest ? manifestBuckets(manifest.value) : undefined;
  const plan = await findPlan(runDir, files, manifest?.value);
  const parsed = statsSchema.safeParse(statsRaw);
  const stats = parsed.success ? parsed.data : undefined;
  const settings = await readStageOptions(runDir, files);
  // Read back, the samples are drawn with the run's seed, as its tasks draw them.
  const record = (await readJsonIf(join(runDir, 'run.json'), files)) as { identity?: { config?: { seed?: unknown } } } | undefined;
  const runSeed = record?.identity?.config?.seed;
  const seed = options.seed ?? (typeof runSeed === 'number' ? runSeed : 0);
  const gathered = tallySchema.safeParse(await readJsonIf(join(runDir, REPORT_TALLY_FILE), files));
  let tally: ReportTally;
  let where = 'counted by the run\'s tasks as they wrote them';
  if (gathered.success) tally = gathered.data;
  else {
    const back = await readBackTally(runDir, files, stats?.stages.map((s) => s.name) ?? [], settings, seed);
    tally = back.tally;
    where = `read back from the run folder${back.unread ? `; ${back.unread} shard${back.unread === 1 ? '' : 's'} could not be read to the end` : ''}`;
  }
  const documents = documentsOf(tally, where);
  return {
    runDir,
    files,
    statsRaw,
    stats,
    ...(buckets ? { buckets } : {}),
    bucketsBasis: buckets && manifest ? `tokens in ${rel(runDir, manifest.path)}` : '',
    ...(plan ? { plan: plan.plan } : {}),
    settings,
    tallies: documents ? tally.sections : {},
    ...(documents ? { documents } : {}),
  };
}
