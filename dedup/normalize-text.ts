/**
 * Text normalisation before hashing, as FineWeb's MinHash does (datatrove `simplify_text`):
 * lower case, diacritics removed, digits mapped to 0, punctuation removed, whitespace collapsed.
 * Diacritics are kept in runs of scripts written without spaces (Thai vowels and tone marks,
 * Japanese voicing marks are combining marks after NFD): removing them garbles those words
 * (เป็น → เปน, です → てす) and the word segmentation that follows.
 */
import { z } from 'zod';
import { needsSegmenter, splitWords } from '../filters/text/words.ts';
import { fmix32, hashString32 } from '../pipeline/hash.ts';

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
  if (ASCII_ONLY.test(text)) return normalizeAscii(text, n);
  let t = text;
  if (n.lowercase) t = t.toLowerCase();
  if (n.remove_diacritics) t = needsSegmenter(t) ? t.replace(LETTER_RUN, (run) => (needsSegmenter(run) ? run : stripMarks(run))) : stripMarks(t);
  if (n.norm_numbers) t = t.replace(DIGITS, '0');
  if (n.remove_punctuation) t = t.replace(PUNCTUATION, ' ');
  if (n.norm_whitespace) t = t.replace(WHITESPACE, ' ').trim();
  return t;
}

const ASCII_ONLY = /^[\x00-\x7f]*$/;

/**
 * `normalizeText` of ASCII text in one pass over its character codes (the regex steps took five
 * passes and three copies): no diacritics to remove, every printable character other than a
 * letter, digit or space is punctuation or a symbol, and white space is tab to carriage return
 * and space.
 */
function normalizeAscii(text: string, n: Normalization): string {
  const out = Buffer.allocUnsafe(text.length);
  let w = 0;
  let inPunct = false;
  let pendingSpace = false;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (n.remove_punctuation && isAsciiPunctOrSymbol(c)) {
      if (inPunct) continue;
      inPunct = true;
      c = 0x20;
    } else {
      inPunct = false;
      if (n.lowercase && c >= 0x41 && c <= 0x5a) c += 0x20;
      else if (n.norm_numbers && c >= 0x30 && c <= 0x39) c = 0x30;
    }
    if (n.norm_whitespace) {
      if (c === 0x20 || (c >= 0x09 && c <= 0x0d)) {
        pendingSpace = w > 0;
        continue;
      }
      if (pendingSpace) {
        out[w++] = 0x20;
        pendingSpace = false;
      }
    }
    out[w++] = c;
  }
  return out.toString('latin1', 0, w);
}

function isAsciiPunctOrSymbol(c: number): boolean {
  return (c >= 0x21 && c <= 0x2f) || (c >= 0x3a && c <= 0x40) || (c >= 0x5b && c <= 0x60) || (c >= 0x7b && c <= 0x7e);
}

/**
 * Words of a normalised text, by the project's word splitter: the Unicode word regex, and
 * `Intl.Segmenter` on runs of Chinese, Japanese, Thai … (which have no spaces between words).
 */
export function wordsOf(normalized: string): string[] {
  return splitWords(normalized);
}

/** Word hashes of a text: `a[i]` (and `b[i]` with a second seed) is `hashString32(word i, seed)`. */
export interface WordHashes {
  count: number;
  a: Int32Array;
  b: Int32Array | undefined;
}

/**
 * `hashString32` of every word of `wordsOf(normalized)`, without making the words: on ASCII text
 * a scanner that follows the word regex (runs of letters and digits joined by single `'`, `-` or
 * `.`) hashes each word in place; other text goes through `wordsOf`. The same numbers either way.
 */
export function wordHashes(normalized: string, seedA: number, seedB?: number): WordHashes {
  const n = normalized.length;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    if (normalized.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii) {
    const words = wordsOf(normalized);
    const a = new Int32Array(words.length);
    const b = seedB === undefined ? undefined : new Int32Array(words.length);
    for (let i = 0; i < words.length; i++) {
      a[i] = hashString32(words[i], seedA);
      if (b) b[i] = hashString32(words[i], seedB!);
    }
    return { count: words.length, a, b };
  }
  let a: Int32Array = new Int32Array(Math.max(16, n >>> 2));
  let b: Int32Array | undefined = seedB === undefined ? undefined : new Int32Array(a.length);
  let count = 0;
  const ba = (seedA ^ 0x811c9dc5) >>> 0;
  const bb = ((seedB ?? 0) ^ 0x811c9dc5) >>> 0;
  let i = 0;
  while (i < n) {
    if (!isAsciiAlnum(normalized.charCodeAt(i))) {
      i++;
      continue;
    }
    const start = i;
    let ha = ba;
    let hb = bb;
    for (;;) {
      while (i < n) {
        const c = normalized.charCodeAt(i);
        if (!isAsciiAlnum(c)) break;
        ha = Math.imul(ha ^ c, 0x01000193);
        if (b) hb = Math.imul(hb ^ c, 0x01000193);
        i++;
      }
      // A joiner continues the word only when a letter or digit follows it.
      if (i + 1 < n && isJoiner(normalized.charCodeAt(i)) && isAsciiAlnum(normalized.charCodeAt(i + 1))) {
        const c = normalized.charCodeAt(i);
        ha = Math.imul(ha ^ c, 0x01000193);
        if (b) hb = Math.imul(hb ^ c, 0x01000193);
        i++;
        continue;
      }
      break;
    }
    if (count === a.length) {
      a = grow(a);
      if (b) b = grow(b);
    }
    a[count] = fmix32(ha ^ (i - start));
    if (b) b[count] = fmix32(hb ^ (i - start));
    count++;
  }
  return { count, a, b };
}

function isAsciiAlnum(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a);
}

/** `'`, `-`, `.`: the ASCII joiners of the word regex. */
function isJoiner(c: number): boolean {
  return c === 0x27 || c === 0x2d || c === 0x2e;
}

function grow(x: Int32Array): Int32Array {
  const y = new Int32Array(x.length * 2);
  y.set(x);
  return y;
}
