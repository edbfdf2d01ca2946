/**
 * How a run writes its kept/ and rejected/ documents (`output_format` in the pipeline):
 * - `refinery` (default): `{id, text, meta}` in `kept/shard-00000.jsonl.gz`;
 * - `dolma`: Dolma documents `{id, text, source, added?, created?, metadata}` in
 *   `kept/documents/shard-00000.jsonl.gz` (Dolma's data format: id, text and source required,
 *   added and created optional; the rest of `meta` is `metadata`);
 * - `datatrove`: `{text, id, metadata}`, what datatrove's JsonlWriter writes and JsonlReader reads,
 *   in `kept/shard-00000.jsonl.gz`;
 * - `parquet`: columns `id`, `text` and `meta` (JSON text) in `kept/shard-00000.parquet`
 *   (parquet-doc-writer.ts; the pipeline's `compression` does not apply, Parquet pages are zstd).
 * Every layout reads back into the same Doc: the readers merge a `metadata` object into `meta`,
 * and Dolma's top-level `source`, `added` and `created` become meta fields (docs/readers.md).
 */
import { basename, dirname, join } from 'node:path';

export const OUTPUT_FORMATS = ['refinery', 'dolma', 'datatrove', 'parquet'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * `meta` fields that may hold when a document was created, tried in order for Dolma's `created`
 * after `meta.created`: url-dedup's default `date_fields` (dedup/url-dedup.ts) without `added`.
 */
export const CREATED_FIELDS = ['date', 'crawl_date', 'timestamp', 'warc_date', 'WARC-Date'] as const;

/** Dolma's source is required: documents without `meta.source` get this. */
export const DOLMA_UNKNOWN_SOURCE = 'unknown';

type DocRecord = { id: string; text: string; meta: Record<string, unknown> };

export interface DocumentLayout {
  format: OutputFormat;
  /** Where a kept/ or rejected/ shard goes, from its Refinery path. */
  path(refineryPath: string): string;
  /** The record written for a document. */
  record(d: DocRecord): unknown;
}

/** ISO 8601 text of a date field: strings as they are, epoch seconds or milliseconds converted. */
function dateText(v: unknown): string | undefined {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) {
    const ms = Math.abs(v) < 1e11 ? v * 1000 : v;
    const d = new Date(ms);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  }
  return undefined;
}

export function dolmaRecord(d: DocRecord): Record<string, unknown> {
  const { source, added, created, ...metadata } = d.meta;
  const out: Record<string, unknown> = { id: d.id, text: d.text, source: typeof source === 'string' && source !== '' ? source : DOLMA_UNKNOWN_SOURCE };
  const addedText = dateText(added);
  if (addedText !== undefined) out.added = addedText;
  let createdText = dateText(created);
  for (const f of CREATED_FIELDS) createdText ??= dateText(d.meta[f]);
  if (createdText !== undefined) out.created = createdText;
  // A source that is not a string stays in metadata rather than being lost.
  if (source !== undefined && out.source !== source) metadata.source = source;
  if (added !== undefined && addedText !== added) metadata.added = added;
  if (created !== undefined && createdText !== created) metadata.created = created;
  out.metadata = metadata;
  return out;
}

export function datatroveRecord(d: DocRecord): Record<string, unknown> {
  return { text: d.text, id: d.id, metadata: d.meta };
}

export function documentLayout(format: OutputFormat): DocumentLayout {
  switch (format) {
    case 'refinery':
      return { format, path: (p) => p, record: (d) => d };
    case 'dolma':
      return { format, path: (p) => join(dirname(p), 'documents', basename(p)), record: dolmaRecord };
    case 'datatrove':
      return { format, path: (p) => p, record: datatroveRecord };
    case 'parquet':
      return { format, path: (p) => p.replace(/\.jsonl(\.[a-z0-9]+)?$/, '.parquet'), record: (d) => d };
  }
}

/** A JSONL writer whose records are turned into `layout`'s before they are written. */
export interface RecordWriter {
  write(record: unknown): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

export class LayoutWriter<W extends RecordWriter> implements RecordWriter {
  constructor(
    readonly inner: W,
    private readonly layout: DocumentLayout,
  ) {}

  /** Records written so far (the inner writer's count). */
  get count(): number {
    return (this.inner as { count?: number }).count ?? 0;
  }

  write(record: unknown): Promise<void> {
    return this.inner.write(this.layout.record(record as DocRecord));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  abort(): Promise<void> {
    return this.inner.abort();
  }
}
