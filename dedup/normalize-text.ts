/**
 * Text normalisation before hashing, as FineWeb's MinHash does (datatrove `simplify_text`):
 * lower case, diacritics removed, digits mapped to 0, punctuation removed, whitespace collapsed.
 */
import { z } from 'zod';

export const normalizationSchema = z.object({
  lowercase: z.boolean().default(true),
  remove_diacritics: z.boolean().default(true),
  /** Every digit becomes 0, so "2023" and "2024" match. */
  norm_numbers: z.boolean().default(true),
  remove_punctuation: z.boolean().default(true),
  norm_whitespace: z.boolean().default(true),
});
export type Normalization = z.infer<typeof normalizationSchema>;

export const NO_NORMALIZATION: Normalization = {
  lowercase: false,
  remove_diacritics: false,
  norm_numbers: false,
  remove_punctuation: false,
  norm_whitespace: false,
};

const COMBINING_MARKS = /\p{M}+/gu;
const PUNCTUATION = /[\p{P}\p{S}]+/gu;
const DIGITS = /\p{Nd}/gu;
const WHITESPACE = /\s+/gu;

export function normalizeText(text: string, n: Normalization): string {
  let t = text;
  if (n.lowercase) t = t.toLowerCase();
  if (n.remove_diacritics) t = t.normalize('NFD').replace(COMBINING_MARKS, '').normalize('NFC');
  if (n.norm_numbers) t = t.replace(DIGITS, '0');
  if (n.remove_punctuation) t = t.replace(PUNCTUATION, ' ');
  if (n.norm_whitespace) t = t.replace(WHITESPACE, ' ').trim();
  return t;
}

/** Words of a normalised text (split on whitespace). */
export function wordsOf(normalized: string): string[] {
  return normalized.split(/\s+/u).filter((w) => w.length > 0);
}
