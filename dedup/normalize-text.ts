/**
 * Text normalisation before hashing, as FineWeb's MinHash does (datatrove `simplify_text`):
 * lower case, diacritics removed, digits mapped to 0, punctuation removed, whitespace collapsed.
 * Diacritics are kept in runs of scripts written without spaces (Thai vowels and tone marks,
 * Japanese voicing marks are combining marks after NFD): removing them garbles those words
 * (เป็น → เปน, です → てす) and the word segmentation that follows.
 */
import { z } from 'zod';
import { needsSegmenter, splitWords } from '../filters/text/words.ts';

export const normalizationSchema = z.object({
  lowercase: z.boolean().default(true).describe('Lower-case the text.'),
  remove_diacritics: z.boolean().default(true).describe('Remove accents and other combining marks (kept in scripts written without spaces).'),
  norm_numbers: z.boolean().default(true).describe('Every digit becomes 0, so "2023" and "2024" match.'),
  remove_punctuation: z.boolean().default(true).describe('Remove punctuation.'),
  norm_whitespace: z.boolean().default(true).describe('Collapse runs of white space into one space.'),
}).strict();
export type Normalization = z.infer<typeof normalizationSchema>;

const COMBINING_MARKS = /\p{M}+/gu;
const PUNCTUATION = /[\p{P}\p{S}]+/gu;
const DIGITS = /\p{Nd}/gu;
const WHITESPACE = /\s+/gu;
/** A run of letters, marks and digits: the unit diacritics are removed from (or kept in). */
const LETTER_RUN = /[\p{L}\p{M}\p{N}]+/gu;

function stripMarks(text: string): string {
  return text.normalize('NFD').replace(COMBINING_MARKS, '').normalize('NFC');
}

export function normalizeText(text: string, n: Normalization): string {
  let t = text;
  if (n.lowercase) t = t.toLowerCase();
  if (n.remove_diacritics) t = needsSegmenter(t) ? t.replace(LETTER_RUN, (run) => (needsSegmenter(run) ? run : stripMarks(run))) : stripMarks(t);
  if (n.norm_numbers) t = t.replace(DIGITS, '0');
  if (n.remove_punctuation) t = t.replace(PUNCTUATION, ' ');
  if (n.norm_whitespace) t = t.replace(WHITESPACE, ' ').trim();
  return t;
}

/**
 * Words of a normalised text, by the project's word splitter: the Unicode word regex, and
 * `Intl.Segmenter` on runs of Chinese, Japanese, Thai … (which have no spaces between words).
 */
export function wordsOf(normalized: string): string[] {
  return splitWords(normalized);
}
