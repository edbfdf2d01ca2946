/** What every reader yields: a document, or an error item that goes to the error output. */
import type { Doc } from '../doc.ts';

/** `reader.html_extractor` (docs/readers.md, "HTML main text"). */
export const HTML_EXTRACTORS = ['fast', 'readability'] as const;
export type HtmlExtractor = (typeof HTML_EXTRACTORS)[number];
export const DEFAULT_HTML_EXTRACTOR: HtmlExtractor = 'fast';

export interface Where {
  file: string;
  line?: number;
  offset?: number;
  record?: number;
}

export type ReadItem =
  | { kind: 'doc'; doc: Doc; where: Where }
  | { kind: 'error'; where: Where; error: string; raw?: string; id?: string };

export interface ReaderOptions {
  /** Field (JSONL) or column (Parquet) holding the text. */
  textField: string;
  /** Field or column holding the id; absent ids become `<idPrefix>:<line or row>`. */
  idField: string;
  /** Stands for the file in made-up ids; default its base name. A run passes the path relative to the pipeline's folder, so that two `part.jsonl` in different folders give different ids. */
  idPrefix?: string;
  /** Longer records go to the error output instead of into memory. */
  maxDocBytes: number;
  /** Default `meta` fields of this input (e.g. `{source: "books", category: "code"}`); a record's own fields win. */
  meta?: Record<string, unknown>;
  /** Main text of WARC HTML pages: the fast heuristic (html-main-text.ts) or Readability. */
  htmlExtractor?: HtmlExtractor;
  /** Read only this stripe: records whose batch (index / STRIPE_LINES) % parts === part. */
  stripe?: { part: number; parts: number };
}

/** Records per stripe batch when a large file is shared by several tasks. */
export const STRIPE_LINES = 1000;

/** Whether record number `n` (0-based, counting every line or record) belongs to the stripe. */
export function inStripe(n: number, stripe: ReaderOptions['stripe']): boolean {
  return !stripe || stripe.parts <= 1 || Math.floor(n / STRIPE_LINES) % stripe.parts === stripe.part;
}

export const DEFAULT_READER_OPTIONS: ReaderOptions = {
  textField: 'text',
  idField: 'id',
  maxDocBytes: 64 * 1024 * 1024,
};

export function describeWhere(w: Where): string {
  if (w.line !== undefined) return `${w.file}:${w.line}`;
  if (w.record !== undefined) return `${w.file} record ${w.record}`;
  if (w.offset !== undefined) return `${w.file} (byte ${w.offset})`;
  return w.file;
}

/** A parsed JSON record becomes a Doc; other fields go to `meta` (a `meta` object is merged). */
export function recordToDoc(record: unknown, where: Where, options: ReaderOptions, fallbackId: string, raw?: string): ReadItem {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return { kind: 'error', where, error: 'record is not a JSON object', raw };
  }
  const r = record as Record<string, unknown>;
  const text = r[options.textField];
  const idValue = r[options.idField];
  const id = typeof idValue === 'string' ? idValue : typeof idValue === 'number' ? String(idValue) : fallbackId;
  if (typeof text !== 'string') {
    const problem = text === undefined ? `has no "${options.textField}" field` : `"${options.textField}" is ${text === null ? 'null' : typeof text}, not a string`;
    return { kind: 'error', where, error: `record ${problem}`, raw, id };
  }
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) {
    if (k === options.textField || k === options.idField) continue;
    if ((k === 'meta' || k === 'metadata') && v !== null && typeof v === 'object' && !Array.isArray(v)) mergeFields(meta, v as Record<string, unknown>);
    else setField(meta, k, v);
  }
  return { kind: 'doc', doc: { id, text, meta }, where };
}

/**
 * Sets `key` as an own data field. A plain assignment of `__proto__` would replace the object's
 * prototype instead, and a record's `__proto__` field would vanish from its meta.
 */
export function setField(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  else target[key] = value;
}

/** Object.assign that keeps every field as data (see setField). */
export function mergeFields(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(source)) setField(target, k, v);
}
