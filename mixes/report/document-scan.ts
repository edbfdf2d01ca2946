/**
 * The report's read of a run's kept/, rejected/ and errors/ folders: language, score and per-rule
 * token figures, and the document views, up to a number of documents.
 */
import { join } from 'node:path';
import { readDocs } from '../../pipeline/io/read.ts';
import { estimateTokens } from '../census.ts';
import { isScoreField } from './measures.ts';
import { runRecords, shardFiles, type Outcome } from '../run-records.ts';
import type { DocumentViewsCollector } from './documents.ts';
import type { RunFiles } from '../../pipeline/run-folder/files.ts';

/** Documents read from kept/ and rejected/ for the language, score and per-rule token figures. */
export const SCAN_LIMIT_DEFAULT = 200_000;

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

export interface Scan {
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
export async function scanAndViews(runDir: string, views: DocumentViewsCollector, limit: number, run: RunFiles): Promise<{ rejected?: Scan; kept?: Scan }> {
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

export function scanBasis(dir: string, scan: Scan): string {
  return `${scan.truncated ? `the first ${scan.docs}` : `all ${scan.docs}`} documents in ${dir}/`;
}

