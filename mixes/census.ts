/**
 * The census: documents and tokens per bucket (source × category × language × quality band),
 * read from tokenized manifests or earlier censuses, or counted from documents; a run is read
 * from its folder or its s3:// prefix alike (pipeline/run-folder/open-run.ts).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { InputError } from '../pipeline/errors.ts';
import { readDocs } from '../pipeline/io/read.ts';
import { isS3Url, localCopy } from '../pipeline/io/storage.ts';
import { openRun } from '../pipeline/run-folder/open-run.ts';
import type { RunFiles } from '../pipeline/run-folder/files.ts';
import type { Doc } from '../pipeline/doc.ts';
import { bucketId, bucketKeyOf, bucketKeyOfDoc, compareBuckets, type BucketCount, type BucketKey } from './bucket.ts';
import { manifestPaths } from './shards/manifest-names.ts';

/**
 * Bytes of UTF-8 per token assumed when a document has no `meta.num_tokens`. The Llama 3
 * tokenizer gives 3.25 (raw Common Crawl, multilingual) to 4.42 (edited English) bytes per token
 * on the dev corpora (`bench/mixes.bench.ts`), so the estimate is within −19% / +11%.
 */
export const BYTES_PER_TOKEN_ESTIMATE = 4;

export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / BYTES_PER_TOKEN_ESTIMATE);
}

/** `meta.num_tokens` when present, else the byte-based estimate. */
export function tokensOfDoc(doc: Doc): { tokens: number; estimated: boolean } {
  const n = doc.meta.num_tokens;
  if (typeof n === 'number' && Number.isFinite(n) && n >= 0) return { tokens: n, estimated: false };
  return { tokens: estimateTokens(doc.text), estimated: true };
}

export interface Census {
  version: 1;
  inputs: string[];
  /** Documents whose token count is the byte estimate rather than `meta.num_tokens` or a manifest. */
  estimated_docs: number;
  totals: {
    docs: number;
    tokens: number;
    by_source: Record<string, number>;
    by_category: Record<string, number>;
    by_language: Record<string, number>;
    by_quality_band: Record<string, number>;
  };
  buckets: BucketCount[];
}

const bucketRow = z.object({
  source: z.unknown().optional(),
  category: z.unknown().optional(),
  language: z.unknown().optional(),
  quality_band: z.unknown().optional(),
  docs: z.number().nonnegative().default(0),
  tokens: z.number().nonnegative(),
});

/** Anything with a `buckets` array: a tokenized `manifest.json` or a `census.json`. */
export const bucketFileSchema = z.looseObject({ buckets: z.array(bucketRow), estimated_docs: z.number().optional() });

/** Adds up bucket counts; the order of additions never changes the result's bytes. */
export class CensusBuilder {
  private readonly rows = new Map<string, BucketCount>();
  estimatedDocs = 0;
  readonly inputs: string[] = [];

  add(key: BucketKey, docs: number, tokens: number): void {
    const id = bucketId(key);
    const row = this.rows.get(id);
    if (row) {
      row.docs += docs;
      row.tokens += tokens;
    } else {
      this.rows.set(id, { ...key, docs, tokens });
    }
  }

  addDoc(doc: Doc): void {
    const { tokens, estimated } = tokensOfDoc(doc);
    if (estimated) this.estimatedDocs++;
    this.add(bucketKeyOfDoc(doc), 1, tokens);
  }

  build(): Census {
    const buckets = [...this.rows.values()].sort(compareBuckets);
    const totals: Census['totals'] = { docs: 0, tokens: 0, by_source: {}, by_category: {}, by_language: {}, by_quality_band: {} };
    const bump = (m: Record<string, number>, k: string, v: number) => {
      m[k] = (m[k] ?? 0) + v;
    };
    for (const b of buckets) {
      totals.docs += b.docs;
      totals.tokens += b.tokens;
      bump(totals.by_source, b.source, b.tokens);
      bump(totals.by_category, b.category, b.tokens);
      bump(totals.by_language, b.language, b.tokens);
      bump(totals.by_quality_band, b.quality_band, b.tokens);
    }
    return { version: 1, inputs: [...this.inputs], estimated_docs: this.estimatedDocs, totals, buckets };
  }
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(path, {}, code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a folder, not a manifest.json or census.json' : `cannot read the file (${(e as Error).message})`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(path, {}, `not valid JSON (${(e as Error).message})`);
  }
}

/** Reads the buckets of a manifest or census file into the builder. */
export async function addBucketFile(builder: CensusBuilder, path: string): Promise<void> {
  const parsed = bucketFileSchema.safeParse(await readJson(path));
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(path, {}, `expected a tokenized manifest.json or a census.json with "buckets" (${issue.path.join('.') || 'top level'}: ${issue.message}); for documents, pass the JSONL files or folders`);
  }
  for (const row of parsed.data.buckets) builder.add(bucketKeyOf(row), row.docs, row.tokens);
  builder.estimatedDocs += parsed.data.estimated_docs ?? 0;
}

/** Counting pass over one document file (JSONL, Parquet, WARC); unreadable records are skipped and counted. */
export async function addDocFile(builder: CensusBuilder, path: string): Promise<{ errors: number }> {
  let errors = 0;
  for await (const item of readDocs(path)) {
    if (item.kind === 'doc') builder.addDoc(item.doc);
    else errors++;
  }
  return { errors };
}

const DOC_FILE = /\.(jsonl|json|ndjson|parquet|warc|wet)(\.gz|\.zst)?$/i;

async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(p)));
    else if (DOC_FILE.test(entry.name)) out.push(p);
  }
  return out;
}

/**
 * Builds a census from inputs: `*.json` files with `buckets` (manifests, censuses) are read as
 * counts; a folder with a `manifest.json` is read through it; other files and folders are
 * counted document by document.
 */
export async function buildCensus(inputs: string[]): Promise<{ census: Census; errors: number }> {
  const builder = new CensusBuilder();
  let errors = 0;
  for (const input of inputs) {
    const source = await censusSource(input);
    try {
      builder.inputs.push(input);
      if (source.counts !== undefined) await addBucketFile(builder, await source.fetch(source.counts));
      else for (const f of source.files) errors += (await addDocFile(builder, await source.fetch(f))).errors;
    } finally {
      await source.done();
    }
  }
  return { census: builder.build(), errors };
}

/** How a census reads one input: counts or document files, each made readable by `fetch` (a bucket run's are fetched as they are read); `done` cleans up. */
type CensusSource = ({ counts: string; files?: undefined } | { counts?: undefined; files: string[] }) & { fetch(path: string): Promise<string>; done(): Promise<void> };

const here = async (path: string) => path;
const nothing = async () => {};

/** The files below `dir` of a run's storage, documents only, in name order. */
async function runFilesUnder(files: RunFiles, dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const name of await files.list(dir)) {
    const p = join(dir, name);
    if (DOC_FILE.test(name)) out.push(p);
    else if (!/\.[A-Za-z0-9]+$/.test(name)) out.push(...(await runFilesUnder(files, p)));
  }
  return out;
}

/**
 * An s3:// input: one object (a manifest, a census or a document file), or the prefix of a run
 * (its tokens manifest, else its kept documents), fetched into a scratch folder as it is read.
 */
async function bucketCensusSource(input: string): Promise<CensusSource> {
  if (DOC_FILE.test(input) && !/\.json$/i.test(input)) return { files: [input], fetch: here, done: nothing };
  if (/\.json$/i.test(input)) {
    const copy = await localCopy(input);
    const single = await isSingleJsonValue(copy.path).catch(() => false);
    return single ? { counts: copy.path, fetch: here, done: copy.done } : { files: [copy.path], fetch: here, done: copy.done };
  }
  const run = await openRun(input);
  const fetch = async (path: string) => {
    if (!(await run.files.need(path))) throw new InputError(run.where(path), {}, 'listed in the run, but not there');
    return path;
  };
  try {
    const top = await run.files.list(run.dir);
    if (top.length === 0) throw new InputError(input, {}, 'no objects under this prefix');
    for (const manifest of [...manifestPaths(run.dir), ...manifestPaths(join(run.dir, 'tokens'))]) {
      if (await run.files.need(manifest)) return { counts: manifest, fetch, done: () => run.close() };
    }
    const files = await runFilesUnder(run.files, top.includes('kept') ? join(run.dir, 'kept') : run.dir);
    return { files, fetch, done: () => run.close() };
  } catch (e) {
    await run.close();
    throw e;
  }
}

/**
 * How a census reads one input: as counts (a manifest or census file, or a folder with a
 * manifest), or as the document files it holds (a run folder: what it kept, not what it rejected).
 */
async function censusSource(input: string): Promise<CensusSource> {
  if (isS3Url(input)) return bucketCensusSource(input);
  let info;
  try {
    info = await stat(input);
  } catch {
    throw new InputError(input, {}, 'no such file or folder');
  }
  if (info.isDirectory()) {
    const manifest = [...manifestPaths(input), ...manifestPaths(join(input, 'tokens'))];
    const found = (await Promise.all(manifest.map((m) => stat(m).then((s) => s.isFile(), () => false)))).indexOf(true);
    if (found >= 0) return { counts: manifest[found]!, fetch: here, done: nothing };
    const kept = join(input, 'kept');
    return { files: await filesUnder((await stat(kept).then((s) => s.isDirectory(), () => false)) ? kept : input), fetch: here, done: nothing };
  }
  if (/\.json$/i.test(input) && (await isSingleJsonValue(input))) return { counts: input, fetch: here, done: nothing };
  return { files: [input], fetch: here, done: nothing };
}

/** A `.json` file holding one JSON value (a manifest, a census, or a mistaken stats.json), not JSON lines. */
async function isSingleJsonValue(path: string): Promise<boolean> {
  try {
    JSON.parse(await readFile(path, 'utf8'));
    return true;
  } catch {
    return false;
  }
}

export async function readCensus(path: string): Promise<Census> {
  const builder = new CensusBuilder();
  await addBucketFile(builder, path);
  const c = builder.build();
  c.inputs.push(path);
  return c;
}

/**
 * The documents a census of these inputs counts one by one, in the same order (the mix planner's
 * cut pass reads them again); throws for an input read as counts (a manifest or census file, a
 * folder with a manifest), which holds no documents.
 */
export async function* censusDocuments(inputs: string[]): AsyncGenerator<Doc> {
  for (const input of inputs) {
    const source = await censusSource(input);
    try {
      if (source.counts !== undefined) {
        throw new InputError(input, {}, source.counts === input ? 'is a manifest or census file (counts), not documents' : 'holds a tokenized manifest (counts), not documents');
      }
      for (const f of source.files) {
        for await (const item of readDocs(await source.fetch(f))) if (item.kind === 'doc') yield item.doc;
      }
    } finally {
      await source.done();
    }
  }
}
