/**
 * How a run writes its kept/ and rejected/ documents (`output_format` in the pipeline):
 * - `refinery` (default): `{id, text, meta}` in `kept/shard-00000.jsonl.gz`;
 * - `dolma`: Dolma documents `{id, text, source, added?, created?, metadata}` in
 *   `kept/documents/shard-00000.jsonl.gz` (Dolma's data format: id, text and source required,
 *   added and created optional; the rest of `meta` is `metadata`), and beside them the attribute
 *   set `refinery` in `kept/attributes/refinery/shard-00000.jsonl.gz`, one line per document in
 *   the same order (dolmaAttributes);
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
  /** Dolma: where the attribute file of a shard goes, and its line for a document. */
  attributes?: { path(refineryPath: string): string; record(d: DocRecord): unknown };
}

/** The name of the Dolma attribute set a run writes (`attributes/refinery/`). */
export const DOLMA_ATTRIBUTE_SET = 'refinery';

/** Dolma's tagger part of the name of a top-level meta value (`refinery__meta__language_score`). */
const TOP_LEVEL_TAGGER = 'meta';

/** Length of a text in Unicode code points, the offsets Dolma (Python `str`) uses. */
function codePoints(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

/**
 * A document's Dolma attributes line `{id, source, attributes}`: every finite number and boolean
 * (as 1 or 0: Dolma's spans hold `[start, end, float]`) in `meta`, at any depth, as one
 * whole-document span `[0, length in code points, value]` named `refinery__<key>__<key>...` (the
 * meta path joined with `__`; a top-level value gets the tagger `meta`, because Dolma splits a
 * name into experiment, tagger and type). `reject_reason`, a string, becomes
 * `refinery__reject_reason__<reason>` with value 1 (characters other than letters, digits and
 * `_` as `_`), the way Dolma's taggers name a category; so does `would_drop` of `mode: annotate`
 * (`meta.<stage>.would_drop: short_doc` is `refinery__<stage>__would_drop__short_doc`, 1). Other
 * strings and arrays are left to the document's `metadata`.
 */
export function dolmaAttributes(d: DocRecord): Record<string, unknown> {
  const end = codePoints(d.text);
  const attributes: Record<string, [number, number, number][]> = {};
  const category = (path: string[], v: string) => (attributes[`${path.join('__')}__${v.replace(/[^A-Za-z0-9_]/g, '_')}`] = [[0, end, 1]]);
  const visit = (path: string[], v: unknown): void => {
    if (typeof v === 'string') {
      if (path.at(-1) === 'would_drop') category(path, v);
    } else if (typeof v === 'number') {
      if (Number.isFinite(v)) attributes[path.join('__')] = [[0, end, v]];
    } else if (typeof v === 'boolean') {
      attributes[path.join('__')] = [[0, end, v ? 1 : 0]];
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) visit([...path, k], x);
    }
  };
  for (const [k, v] of Object.entries(d.meta)) {
    if (k === 'reject_reason' && typeof v === 'string') category([DOLMA_ATTRIBUTE_SET, 'reject_reason'], v);
    else if (v !== null && typeof v === 'object') visit([DOLMA_ATTRIBUTE_SET, k], v);
    else visit([DOLMA_ATTRIBUTE_SET, TOP_LEVEL_TAGGER, k], v);
  }
  const source = d.meta.source;
  return { id: d.id, source: typeof source === 'string' && source !== '' ? source : DOLMA_UNKNOWN_SOURCE, attributes };
}

/** ISO 8601 dates and date-times: `2023-03-20`, `2023-03-20T10:00:00Z`, `2023-03-20T10:00:00.123+02:00`. */
const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** RFC 9110's HTTP date (`Mon, 20 Mar 2023 10:00:00 GMT`), the form of `Date` and `Last-Modified` headers. */
const HTTP_DATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/**
 * ISO 8601 text of a date field, or undefined when it holds no valid date: ISO 8601 strings as
 * they are (checked for a real day: `2023-02-30` is not one, though Date.parse rolls it over),
 * HTTP dates and epoch seconds or milliseconds converted. Free text is not guessed at (Date.parse
 * reads `"1"` as 2001).
 */
export function dateText(v: unknown): string | undefined {
  if (typeof v === 'string') {
    const iso = ISO_DATE.exec(v);
    if (iso) {
      const [y, m, d] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
      const day = new Date(Date.UTC(y, m - 1, d));
      const realDay = day.getUTCFullYear() === y && day.getUTCMonth() === m - 1 && day.getUTCDate() === d;
      return realDay && Number.isFinite(Date.parse(v)) ? v : undefined;
    }
    return HTTP_DATE.test(v) ? isoOf(Date.parse(v)) : undefined;
  }
  if (typeof v === 'number' && Number.isFinite(v)) return isoOf(Math.abs(v) < 1e11 ? v * 1000 : v);
  return undefined;
}

function isoOf(ms: number): string | undefined {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
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
      return {
        format,
        path: (p) => join(dirname(p), 'documents', basename(p)),
        record: dolmaRecord,
        attributes: { path: (p) => join(dirname(p), 'attributes', DOLMA_ATTRIBUTE_SET, basename(p)), record: dolmaAttributes },
      };
    case 'datatrove':
      return { format, path: (p) => p, record: datatroveRecord };
    case 'parquet':
      return { format, path: (p) => p.replace(/\.jsonl(\.[a-z0-9]+)?$/, '.parquet'), record: (d) => d };
  }
}

/**
 * A JSONL writer whose records are turned into `layout`'s before they are written; with
 * `attributes` (Dolma), each document's attributes line goes to that writer too, so both files hold
 * the same documents in the same order, and both are closed (renamed into place) or aborted together.
 */
export interface RecordWriter {
  /** A promise when the caller must wait before the next write (back-pressure, opening a file). */
  write(record: unknown): Promise<void> | undefined;
  close(): Promise<void>;
  abort(): Promise<void>;
}

export class LayoutWriter<W extends RecordWriter> implements RecordWriter {
  constructor(
    readonly inner: W,
    private readonly layout: DocumentLayout,
    readonly attributes?: W,
  ) {}

  /** Records written so far (the inner writer's count). */
  get count(): number {
    return (this.inner as { count?: number }).count ?? 0;
  }

  write(record: unknown): Promise<void> | undefined {
    const wait = this.inner.write(this.layout.record(record as DocRecord));
    const attributes = this.attributes && this.layout.attributes ? this.layout.attributes.record(record as DocRecord) : undefined;
    if (wait) return wait.then(() => (attributes !== undefined ? this.attributes!.write(attributes) : undefined));
    return attributes !== undefined ? this.attributes!.write(attributes) : undefined;
  }

  async close(): Promise<void> {
    await this.attributes?.close();
    await this.inner.close();
  }

  async abort(): Promise<void> {
    await this.attributes?.abort();
    await this.inner.abort();
  }
}
