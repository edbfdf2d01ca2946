/**
 * A run's document shards (kept/, rejected/, errors/, in every output_format) as `refinery
 * remove` reads and rewrites them: each record's id, URL and what the run did with it, and a
 * shard written again without the removed ids, whole (a temporary name renamed; on a bucket, an
 * object stored in one piece). A record is written back as it was read, so a shard rewritten
 * holds the bytes a run that never read the removed documents writes.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { compressionOf, createDecompress } from '../pipeline/io/compression.ts';
import { JsonlWriter } from '../pipeline/io/jsonl-writer.ts';
import { ParquetDocWriter } from '../pipeline/io/parquet-doc-writer.ts';
import { readDocs } from '../pipeline/io/read.ts';
import { InputError } from '../pipeline/errors.ts';
import type { OpenedRun } from '../pipeline/run-folder/open-run.ts';

export type Outcome = 'kept' | 'rejected' | 'errored';

const FOLDERS: [string, Outcome][] = [['kept', 'kept'], ['rejected', 'rejected'], ['errors', 'errored']];
const SHARD = /\.jsonl(\.gz|\.zst)?$|\.parquet$/i;

export interface DocumentShard {
  /** Path relative to the run, with "/". */
  rel: string;
  outcome: Outcome;
  /** Dolma's attribute files (`attributes/<set>/`) hold no text: their lines go with the document of the same id. */
  attributes: boolean;
}

/** What the run did with one record: enough to take it out of the counts. */
export interface RecordFacts {
  id: string;
  url?: string;
  outcome: Outcome;
  /** The shard, relative to the run. */
  file: string;
  /** UTF-8 bytes of its text as written. */
  bytes: number;
  /** rejected: `stage:rule`; errored: the stage that threw (`read`: an unreadable input record). */
  reason?: string;
  stage?: string;
  /** `meta.num_tokens`: the tokenize stage counted it (tokens with BOS and EOS). */
  num_tokens?: number;
  /** The meta fields a token manifest counts by. */
  bucket: { source?: unknown; category?: unknown; language?: unknown; quality_band?: unknown };
}

/** Every document shard of the run, in name order (attribute files too). */
export async function documentShards(run: OpenedRun): Promise<DocumentShard[]> {
  const out: DocumentShard[] = [];
  const walk = async (rel: string, outcome: Outcome): Promise<void> => {
    for (const name of await run.files.list(join(run.dir, rel))) {
      const child = `${rel}/${name}`;
      if (SHARD.test(name)) out.push({ rel: child, outcome, attributes: child.split('/').includes('attributes') });
      else if (!name.includes('.')) await walk(child, outcome);
    }
  };
  for (const [folder, outcome] of FOLDERS) await walk(folder, outcome);
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** meta in every layout: `meta` (refinery), `metadata` beside top-level fields (Dolma, datatrove). */
function metaOf(r: Record<string, unknown>): Record<string, unknown> {
  if (isObject(r.meta)) return r.meta;
  const { id: _id, text: _text, metadata, ...rest } = r;
  return isObject(metadata) ? { ...metadata, ...rest } : rest;
}

function factsOf(shard: DocumentShard, r: Record<string, unknown>): RecordFacts {
  const meta = metaOf(r);
  const text = typeof r.text === 'string' ? r.text : typeof r.raw === 'string' ? r.raw : '';
  const reason = shard.outcome === 'rejected' && typeof meta.reject_reason === 'string' ? meta.reject_reason : undefined;
  return {
    id: r.id === null || r.id === undefined ? '' : String(r.id),
    ...(typeof meta.url === 'string' ? { url: meta.url } : {}),
    outcome: shard.outcome,
    file: shard.rel,
    bytes: Buffer.byteLength(text),
    ...(reason !== undefined ? { reason } : {}),
    ...(shard.outcome === 'errored' && typeof r.stage === 'string' ? { stage: r.stage } : {}),
    ...(typeof meta.num_tokens === 'number' ? { num_tokens: meta.num_tokens } : {}),
    bucket: { source: meta.source, category: meta.category, language: meta.language, quality_band: meta.quality_band },
  };
}

async function* jsonLines(path: string): AsyncGenerator<{ line: number; value: Record<string, unknown> }> {
  const raw = createReadStream(path);
  const decompress = createDecompress(compressionOf(path));
  const input = decompress ? raw.pipe(decompress) : raw;
  raw.on('error', (e) => input.destroy(e));
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new InputError(path, { line }, `not a JSON line (${(e as Error).message}): a damaged shard is not rewritten`);
    }
    if (!isObject(value)) throw new InputError(path, { line }, 'not a JSON object');
    yield { line, value };
  }
}

/** The records of a shard, with what the run did with each (attribute files: id only). */
export async function* shardRecords(run: OpenedRun, shard: DocumentShard): AsyncGenerator<RecordFacts> {
  const path = join(run.dir, shard.rel);
  if (!(await run.files.need(path))) throw new InputError(run.where(path), {}, 'listed in the run, but not there');
  if (shard.rel.endsWith('.parquet')) {
    for await (const item of readDocs(path)) {
      if (item.kind === 'error') throw new InputError(run.where(path), {}, item.error);
      yield factsOf(shard, { id: item.doc.id, text: item.doc.text, meta: item.doc.meta });
    }
    return;
  }
  for await (const { value } of jsonLines(path)) yield factsOf(shard, value);
}

/** Whether a record goes, by its id and URL. */
export type Removes = (id: string, url: unknown) => boolean;

/**
 * Writes the shard again without the records `removes` names; returns how many went (none:
 * the shard is left as it is). A shard left empty is deleted where the run writes none for no
 * documents (rejected/, errors/), and kept empty in kept/, as a run writes it.
 */
export async function rewriteShard(run: OpenedRun, shard: DocumentShard, removes: Removes): Promise<number> {
  const path = join(run.dir, shard.rel);
  if (!(await run.files.need(path))) return 0;
  let removed = 0;
  // The writer's temporary file is renamed over the shard only when whole, after the shard was read to its end.
  const writer = shard.rel.endsWith('.parquet') ? new ParquetDocWriter(path) : await JsonlWriter.open(path);
  try {
    if (shard.rel.endsWith('.parquet')) {
      for await (const item of readDocs(path)) {
        if (item.kind === 'error') throw new InputError(run.where(path), {}, item.error);
        if (removes(item.doc.id, item.doc.meta.url)) removed++;
        else await writer.write({ id: item.doc.id, text: item.doc.text, meta: item.doc.meta });
      }
    } else {
      for await (const { value } of jsonLines(path)) {
        if (removes(value.id === null || value.id === undefined ? '' : String(value.id), metaOf(value).url)) removed++;
        else await writer.write(value);
      }
    }
  } catch (e) {
    await writer.abort();
    throw e;
  }
  if (removed === 0 || (writer.count === 0 && shard.outcome !== 'kept')) {
    await writer.abort();
    if (removed > 0) await run.delete([path]);
    return removed;
  }
  await writer.close();
  await run.put(path);
  return removed;
}
