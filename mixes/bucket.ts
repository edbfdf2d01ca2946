/**
 * The unit the mix is planned in: source × category × language × quality band. The census, the
 * planner, the sampler and the tokenized manifest all name a bucket the same way.
 */
import type { Doc } from '../pipeline/doc.ts';

export const UNKNOWN = 'unknown';

export interface BucketKey {
  source: string;
  category: string;
  language: string;
  quality_band: string;
}

export interface BucketCount extends BucketKey {
  docs: number;
  tokens: number;
}

function label(value: unknown): string {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return UNKNOWN;
}

/** The bucket of a document, from `meta.source`, `meta.category`, `meta.language`, `meta.quality_band`. */
export function bucketKeyOfDoc(doc: Doc): BucketKey {
  return {
    source: label(doc.meta.source),
    category: label(doc.meta.category),
    language: label(doc.meta.language),
    quality_band: label(doc.meta.quality_band),
  };
}

export function bucketKeyOf(record: Partial<Record<keyof BucketKey, unknown>>): BucketKey {
  return {
    source: label(record.source),
    category: label(record.category),
    language: label(record.language),
    quality_band: label(record.quality_band),
  };
}

/** `source/category/language/quality_band` with each part URI-escaped, so the id is unambiguous. */
export function bucketId(key: BucketKey): string {
  return [key.source, key.category, key.language, key.quality_band].map(encodeURIComponent).join('/');
}

/** Short programming-language names that look like ISO language codes (The Stack writes them to `meta.language`). */
const PROGRAMMING_LANGUAGE_CODES = new Set(['go', 'sql', 'php', 'lua', 'zig', 'tcl', 'css', 'xml', 'asm', 'vb', 'js', 'jsx', 'tsx', 'hs', 'ml', 'rs', 'kt']);

/**
 * Whether a bucket counts towards the non-English share: a human language code (ISO 639-1 or
 * 639-3, optionally with script or region: `fr`, `zho_Hans`, `pt-BR`) other than English. Code
 * (category `code`, or a programming language in `meta.language`) and `unknown` are neither.
 */
export function isNonEnglish(language: string, category?: string): boolean {
  if (language === UNKNOWN || category === 'code') return false;
  const primary = language.split(/[-_]/)[0]!.toLowerCase();
  if (!/^[a-z]{2,3}$/.test(primary) || PROGRAMMING_LANGUAGE_CODES.has(primary)) return false;
  return primary !== 'en' && primary !== 'eng';
}

export function compareBuckets(a: BucketKey, b: BucketKey): number {
  const x = bucketId(a);
  const y = bucketId(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
