/**
 * Text normalisation before hashing, as FineWeb's MinHash does (datatrove `simplify_text`):
 * lower case, diacritics removed, digits mapped to 0, punctuation removed, whitespace collapsed.
 * Diacritics are kept in runs of scripts written without spaces (Thai vowels and tone marks,
 * Japanese voicing marks are combining marks after NFD): removing them garbles those words
 * (เป็น → เปน, です → てす) and the word segmentation that follows.
 */
import { z } from 'zod';
import { NO_SPACE_RUN, needsSegmenter, splitWords } from '../text/words.ts';
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
  if (n.remove_diacritics && n.norm_numbers && n.remove_punctuation && n.norm_whitespace) {
    const fast = normalizeByCodeUnit(text, n.lowercase);
    if (fast !== undefined) return fast;
  }
  return normalizeByRegex(text, n);
}

function normalizeByRegex(text: string, n: Normalization): string {
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
 * Non-mark characters that canonical composition (NFC) joins to the character before them:
 * Hangul jamo, and Kirat Rai vowels (found by decomposing every code point; a test checks it).
 * Around them, normalising character by character could differ from normalising the text.
 */
export const COMPOSES_WITH_PREVIOUS = /[\u1100-\u11ff\ua960-\ua97f\ud7b0-\ud7ff\u{16d00}-\u{16d7f}]/u;

/** What a character becomes: a code unit, or one of these (a code unit is >= 0). */
const SEPARATOR = -1;
const REMOVED = -2;
const KEEP_PAIR = -3;
const SLOW = -4;
const UNKNOWN = -5;

/** Per code unit (BMP), lower-cased or not: what `normalizeByRegex` makes of it, computed on first sight. */
const unitTables: [Int32Array | undefined, Int32Array | undefined] = [undefined, undefined];
/** The same for characters outside the BMP, by code point. */
const pairTables: [Map<number, number>, Map<number, number>] = [new Map(), new Map()];

/**
 * What the regex steps make of one character `ch` (one code point) in any text, or SLOW where
 * the context matters: a script written without spaces (its marks are kept in its runs), final
 * sigma and other lower-casings that change length, characters that compose with their
 * neighbour, and decompositions into more than one character.
 */
function characterFate(ch: string, lowercase: boolean): number {
  const l = lowercase ? ch.toLowerCase() : ch;
  if (ch === '\u03a3' || l.length !== ch.length || needsSegmenter(l) || COMPOSES_WITH_PREVIOUS.test(l)) return SLOW;
  const r = stripMarks(l);
  if (r.length === 0) return REMOVED;
  if (/^(?:[\p{P}\p{S}]|\s)$/u.test(r)) return SEPARATOR;
  if (/^\p{Nd}$/u.test(r)) return 0x30;
  if (r.length === 1 && ch.length === 1) return r.charCodeAt(0);
  if (r === ch && ch.length === 2) return KEEP_PAIR;
  return SLOW;
}

/**
 * `normalizeByRegex` with diacritics, digits, punctuation and white space all normalised, in one
 * pass over the code units: every character's fate is looked up (a character normalises the same
 * way in any text, except those `characterFate` calls SLOW; then this returns undefined). It runs
 * before the regex steps because one lookup per code unit costs far less than their passes over
 * the text; the minhash-only run of bench/pipeline.bench.ts measures it.
 */
function normalizeByCodeUnit(text: string, lowercase: boolean): string | undefined {
  const li = lowercase ? 1 : 0;
  const units = (unitTables[li] ??= new Int32Array(0x10000).fill(UNKNOWN));
  const pairs = pairTables[li];
  const n = text.length;
  const out = new Uint16Array(n);
  let w = 0;
  let pendingSpace = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    let f = units[c]!; // c < 0x10000, the table's length
    if (f === UNKNOWN) {
      f = c >= 0xd800 && c <= 0xdfff ? KEEP_PAIR : characterFate(String.fromCharCode(c), lowercase);
      units[c] = f;
    }
    if (f >= 0) {
      if (pendingSpace) {
        out[w++] = 0x20;
        pendingSpace = false;
      }
      out[w++] = f;
    } else if (f === SEPARATOR) pendingSpace = w > 0;
    else if (f === KEEP_PAIR) {
      // A surrogate: a pair is looked up by code point; a lone one goes the slow way.
      const d = i + 1 < n ? text.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) return undefined;
      const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
      let g = pairs.get(cp);
      if (g === undefined) pairs.set(cp, (g = characterFate(String.fromCodePoint(cp), lowercase)));
      if (g === SLOW) return undefined;
      i++;
      if (g === SEPARATOR) pendingSpace = w > 0;
      else if (g !== REMOVED) {
        if (pendingSpace) {
          out[w++] = 0x20;
          pendingSpace = false;
        }
        if (g === KEEP_PAIR) {
          out[w++] = c;
          out[w++] = d;
        } else out[w++] = g;
      }
    } else if (f === SLOW) return undefined;
  }
  return Buffer.from(out.buffer, 0, 2 * w).toString('utf16le');
}

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
 * `hashString32` of every word of `wordsOf(normalized)`, without making the words: a scanner
 * that follows the word regex (runs of letters, marks and digits joined by single `'`, `’`, `-`
 * or `.`) hashes each word in place; in text with a script written without spaces, the runs of
 * those scripts go through `Intl.Segmenter` (remembered by run), as in `splitWords`. The same
 * numbers as `wordsOf` and `hashString32`.
 */
export function wordHashes(normalized: string, seedA: number, seedB?: number): WordHashes {
  const size = Math.max(16, normalized.length >>> 2);
  const out: WordHashes = { count: 0, a: new Int32Array(size), b: seedB === undefined ? undefined : new Int32Array(size) };
  if (scanWordHashes(normalized, 0, normalized.length, seedA, seedB, out)) return out;
  // As splitWords: the runs of scripts written without spaces through Intl.Segmenter, the rest by the word regex (here the scanner).
  out.count = 0;
  let last = 0;
  for (const m of normalized.matchAll(NO_SPACE_RUN)) {
    if (!scanWordHashes(normalized, last, m.index, seedA, seedB, out)) throw new Error(`no script without spaces expected between runs: ${JSON.stringify(normalized.slice(last, m.index))}`);
    for (const w of segmentedWords(m[0])) push(out, hashString32(w, seedA), seedB === undefined ? 0 : hashString32(w, seedB));
    last = m.index + m[0].length;
  }
  scanWordHashes(normalized, last, normalized.length, seedA, seedB, out);
  return out;
}

function push(out: WordHashes, a: number, b: number): void {
  if (out.count === out.a.length) {
    out.a = grow(out.a);
    if (out.b) out.b = grow(out.b);
  }
  out.a[out.count] = a;
  if (out.b) out.b[out.count] = b;
  out.count++;
}

let segmenter: Intl.Segmenter | undefined;
/** Words of runs already segmented: `Intl.Segmenter` is slow per run, and in the text of bench/pipeline.bench.ts a third of the runs repeat. */
const runWords = new Map<string, string[]>();

/** The word-like segments of a run of a script written without spaces, as `splitWords` makes them. */
function segmentedWords(run: string): string[] {
  let words = runWords.get(run);
  if (words) return words;
  segmenter ??= new Intl.Segmenter('und', { granularity: 'word' });
  words = [];
  for (const s of segmenter.segment(run)) if (s.isWordLike) words.push(s.segment);
  if (runWords.size >= 100_000) runWords.clear();
  runWords.set(run, words);
  return words;
}

/**
 * `wordHashes(normalizeText(text, n), seedA, seedB)`. On ASCII text with punctuation removed, in
 * one pass and without the normalised text: its words are then the runs of letters and digits of
 * the text (every other character becomes a space or stays a non-word character), lower-cased
 * and with digits 0 as the settings say. One pass instead of two, and no normalised string; the
 * minhash-only run of bench/pipeline.bench.ts measures the cost.
 */
export function normalizedWordHashes(text: string, n: Normalization, seedA: number, seedB?: number): WordHashes {
  if (!n.remove_punctuation || !ASCII_ONLY.test(text)) return wordHashes(normalizeText(text, n), seedA, seedB);
  const len = text.length;
  let a: Int32Array = new Int32Array(Math.max(16, len >>> 3));
  let b: Int32Array | undefined = seedB === undefined ? undefined : new Int32Array(a.length);
  let count = 0;
  const ba = (seedA ^ 0x811c9dc5) >>> 0;
  const bb = ((seedB ?? 0) ^ 0x811c9dc5) >>> 0;
  const upper = n.lowercase ? 0x20 : 0;
  const digit = n.norm_numbers;
  let i = 0;
  while (i < len) {
    let c = text.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a))) {
      i++;
      continue;
    }
    const start = i;
    let ha = ba;
    let hb = bb;
    do {
      if (c <= 0x39) {
        if (digit) c = 0x30;
      } else if (c <= 0x5a) c += upper;
      ha = Math.imul(ha ^ c, 0x01000193);
      if (b) hb = Math.imul(hb ^ c, 0x01000193);
      c = ++i < len ? text.charCodeAt(i) : 0;
    } while ((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a));
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

/** Code unit classes for the word scanner; a surrogate is classified with its pair, by code point. */
const OTHER = 0;
const WORD_UNIT = 1;
const JOINER = 2;
const SEGMENTED = 3;
const SURROGATE = 4;
const UNCLASSIFIED = 5;
const WORD_CHAR = /^[\p{L}\p{M}\p{N}]$/u;
const unitClasses = new Uint8Array(0x10000).fill(UNCLASSIFIED);
const pairClasses = new Map<number, number>();

function characterClass(ch: string): number {
  if (needsSegmenter(ch)) return SEGMENTED;
  if (WORD_CHAR.test(ch)) return WORD_UNIT;
  return ch === "'" || ch === '\u2019' || ch === '-' || ch === '.' ? JOINER : OTHER;
}

/**
 * Code units of the word character at `i`: 1 or 2 (a surrogate pair), 0 when it is not a word
 * character, -1 for a character of a script written without spaces.
 */
function wordUnitsAt(s: string, i: number, end: number): number {
  const c = s.charCodeAt(i);
  let k = unitClasses[c];
  if (k === UNCLASSIFIED) unitClasses[c] = k = c >= 0xd800 && c <= 0xdfff ? SURROGATE : characterClass(String.fromCharCode(c));
  if (k === WORD_UNIT) return 1;
  if (k === OTHER || k === JOINER) return 0;
  if (k === SEGMENTED) return -1;
  const d = i + 1 < end ? s.charCodeAt(i + 1) : 0;
  if (c > 0xdbff || !(d >= 0xdc00 && d <= 0xdfff)) return 0; // a lone surrogate is no word character
  const cp = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
  let p = pairClasses.get(cp);
  if (p === undefined) pairClasses.set(cp, (p = characterClass(String.fromCodePoint(cp))));
  return p === WORD_UNIT ? 2 : p === SEGMENTED ? -1 : 0;
}

/**
 * The scanner of `wordHashes` (FNV-1a over the UTF-16 code units of each word, as
 * `hashString32`) over `s[from, to)`, appending to `out`; false when it meets a script written
 * without spaces (which `splitWords` segments). It hashes as it scans, where `wordsOf` and two
 * `hashString32` per word would make a string per word and read each twice; the minhash-only run
 * of bench/pipeline.bench.ts measures the cost.
 */
function scanWordHashes(s: string, from: number, to: number, seedA: number, seedB: number | undefined, out: WordHashes): boolean {
  let { a, b, count } = out;
  const ba = (seedA ^ 0x811c9dc5) >>> 0;
  const bb = ((seedB ?? 0) ^ 0x811c9dc5) >>> 0;
  let i = from;
  let found = true;
  scan: while (i < to) {
    const u = unitClasses[s.charCodeAt(i)];
    if (u === OTHER || u === JOINER) {
      i++;
      continue;
    }
    let k = u === WORD_UNIT ? 1 : wordUnitsAt(s, i, to);
    if (k < 0) {
      found = false;
      break;
    }
    if (k === 0) {
      i++;
      continue;
    }
    const start = i;
    let ha = ba;
    let hb = bb;
    for (;;) {
      while (k > 0) {
        for (const end = i + k; i < end; i++) {
          const c = s.charCodeAt(i);
          ha = Math.imul(ha ^ c, 0x01000193);
          if (b) hb = Math.imul(hb ^ c, 0x01000193);
        }
        // Most characters are classified already: look them up here, not in wordUnitsAt.
        const u = i < to ? unitClasses[s.charCodeAt(i)] : OTHER;
        k = u === WORD_UNIT ? 1 : u === OTHER || u === JOINER ? 0 : wordUnitsAt(s, i, to);
      }
      if (k < 0) {
        found = false;
        break scan;
      }
      // A joiner continues the word only when a word character follows it.
      if (i + 1 < to && unitClasses[s.charCodeAt(i)] === JOINER) {
        k = wordUnitsAt(s, i + 1, to);
        if (k < 0) {
          found = false;
          break scan;
        }
        if (k > 0) {
          const c = s.charCodeAt(i);
          ha = Math.imul(ha ^ c, 0x01000193);
          if (b) hb = Math.imul(hb ^ c, 0x01000193);
          i++;
          continue;
        }
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
  out.a = a;
  out.b = b;
  out.count = count;
  return found;
}

function grow(x: Int32Array): Int32Array {
  const y = new Int32Array(x.length * 2);
  y.set(x);
  return y;
}
