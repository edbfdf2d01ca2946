/**
 * fastText-style hashed features (Joulin et al. 2017, "Bag of Tricks"; Bojanowski et al. 2017
 * for subwords): lower-cased word tokens, word n-grams up to `word_ngrams` within a line,
 * character n-grams of `<word>` from `minn` to `maxn`, and the end-of-line token `</s>` for each
 * line end plus one at the end, so that every document, even an empty one, has a feature. Every feature is hashed into `buckets` rows of one table.
 *
 * The same function feeds training, the TypeScript model and the ONNX graph at scoring time.
 */
import { z } from 'zod';

export const FeatureOptions = z.object({
  word_ngrams: z.number().int().min(1).max(5).default(2).describe('Word n-grams up to this length (fastText `-wordNgrams`; 2 is the common text-classification setting).'),
  minn: z.number().int().min(0).max(10).default(0).describe("Shortest char n-gram of `<word>` (fastText `-minn`); 0 = none, fastText's supervised default (3 helps with misspellings and rare words, at ~5× the features)."),
  maxn: z.number().int().min(0).max(10).default(0).describe('Longest char n-gram (fastText `-maxn`; supervised default 0).'),
  buckets: z.number().int().min(16).max(1 << 24).default(1 << 18).describe('Hash buckets shared by every feature (fastText `-bucket` is 2M; ours keeps the ONNX file small).'),
  max_words: z.number().int().min(1).default(4096).describe('Only the first this many words of a document are read (long pages cost no more than this).'),
});
export type FeatureOptions = z.infer<typeof FeatureOptions>;

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
/** fastText's multiplier for combining word hashes into an n-gram hash. */
const NGRAM_MULTIPLIER = 116049371;
const EOS = '</s>';

/** FNV-1a over UTF-16 code units (fastText hashes bytes; code units keep it allocation-free). */
export function fnv1a(s: string, from = 0, to = s.length): number {
  let h = FNV_OFFSET;
  for (let i = from; i < to; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}

/** 1 where a UTF-16 code unit belongs to a word (letters, digits, marks, surrogates). */
const WORD_UNIT = (() => {
  const table = new Uint8Array(65536);
  const re = /[\p{L}\p{N}\p{M}]/u;
  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) table[c] = 1;
    else if (re.test(String.fromCharCode(c))) table[c] = 1;
  }
  table[0x27] = 1; // apostrophe: "don't" stays one word
  return table;
})();

/** Lower case of each UTF-16 code unit where it is one code unit (full-string case mappings such as "İ" → "i̇" are left as they are). */
const LOWER = (() => {
  const table = new Uint16Array(65536);
  for (let c = 0; c < 65536; c++) {
    if (c >= 0xd800 && c <= 0xdfff) {
      table[c] = c;
      continue;
    }
    const l = String.fromCharCode(c).toLowerCase();
    table[c] = l.length === 1 ? l.charCodeAt(0) : c;
  }
  return table;
})();

function lowerUnits(text: string, from: number, to: number): string {
  let changed = false;
  for (let k = from; k < to; k++) {
    const c = text.charCodeAt(k);
    if (LOWER[c] !== c) {
      changed = true;
      break;
    }
  }
  if (!changed) return text.slice(from, to);
  const units = new Array<number>(to - from);
  for (let k = from; k < to; k++) units[k - from] = LOWER[text.charCodeAt(k)]!;
  return String.fromCharCode(...units);
}

/** Per word: its raw hash (for word n-grams) and the bucket ids of the word and its char n-grams. */
interface WordEntry {
  hash: number;
  ids: Int32Array;
}

/**
 * Computes feature ids. With char n-grams it holds a cache of word entries (words follow
 * Zipf's law, so most lookups hit); the cache is keyed by the word itself and never changes a
 * result. Words are lower-cased code unit by code unit.
 */
export class FeatureHasher {
  private readonly cache = new Map<string, WordEntry>();
  private static readonly CACHE_LIMIT = 200_000;
  private readonly eosId: number;
  private ids = new Int32Array(4096);
  private hashes = new Int32Array(4096);

  constructor(readonly options: FeatureOptions) {
    if (options.minn > 0 && options.minn > options.maxn) throw new RangeError(`minn (${options.minn}) must be ≤ maxn (${options.maxn})`);
    this.eosId = fnv1a(EOS) % options.buckets;
  }

  private entry(word: string): WordEntry {
    let e = this.cache.get(word);
    if (e) return e;
    const { buckets, minn, maxn } = this.options;
    const hash = fnv1a(word);
    const ids: number[] = [hash % buckets];
    if (minn > 0) {
      const w = `<${word}>`;
      // Char n-grams by code unit; the whole `<word>` is skipped (it is the word feature).
      for (let i = 0; i < w.length; i++) {
        for (let n = minn; n <= maxn && i + n <= w.length; n++) {
          if (n === w.length) continue;
          // Salted so that the n-gram "abc" and the word "abc" land in different buckets.
          ids.push(((Math.imul(fnv1a(w, i, i + n), NGRAM_MULTIPLIER) + n) >>> 0) % buckets);
        }
      }
    }
    e = { hash, ids: Int32Array.from(ids) };
    if (this.cache.size >= FeatureHasher.CACHE_LIMIT) this.cache.clear();
    this.cache.set(word, e);
    return e;
  }

  private push(count: number, id: number): number {
    if (count === this.ids.length) {
      const next = new Int32Array(this.ids.length * 2);
      next.set(this.ids);
      this.ids = next;
    }
    this.ids[count] = id;
    return count + 1;
  }

  /**
   * Feature ids of one text, with repeats (a word seen twice counts twice), in a fresh array.
   * Words are maximal runs of letters, digits and marks; every other non-space character is a
   * one-character token (punctuation says much about quality).
   */
  features(text: string): Int32Array {
    const { word_ngrams: wordNgrams, buckets, max_words: maxWords, minn } = this.options;
    // Without char n-grams a word's features follow from its hash alone: no string is made.
    const subwords = minn > 0;
    let count = 0;
    let words = 0;
    let lineStart = 0;
    const len = text.length;
    let i = 0;
    while (i < len && words < maxWords) {
      const c = text.charCodeAt(i);
      let hash: number;
      let j: number;
      if (WORD_UNIT[c] === 1) {
        j = i + 1;
        while (j < len && WORD_UNIT[text.charCodeAt(j)] === 1) j++;
      } else if (c === 10) {
        // As in fastText, a line end is the </s> token; word n-grams do not cross it.
        count = this.push(count, this.eosId);
        lineStart = words;
        i++;
        continue;
      } else if (c === 32 || c === 9 || c === 13 || c === 0xa0 || (c >= 0x2000 && c <= 0x200b) || c === 0x3000) {
        i++;
        continue;
      } else {
        j = i + 1; // one punctuation or symbol character
      }
      if (subwords) {
        const e = this.entry(lowerUnits(text, i, j));
        hash = e.hash;
        for (let k = 0; k < e.ids.length; k++) count = this.push(count, e.ids[k]!);
      } else {
        let h = FNV_OFFSET;
        for (let k = i; k < j; k++) {
          h ^= LOWER[text.charCodeAt(k)]!;
          h = Math.imul(h, FNV_PRIME);
        }
        hash = h >>> 0;
        count = this.push(count, hash % buckets);
      }
      i = j;
      if (words === this.hashes.length) {
        const next = new Int32Array(this.hashes.length * 2);
        next.set(this.hashes);
        this.hashes = next;
      }
      this.hashes[words] = hash;
      // Word n-grams ending at this word.
      let h = hash;
      for (let n = 2; n <= wordNgrams && n <= words - lineStart + 1; n++) {
        h = (Math.imul(h, NGRAM_MULTIPLIER) + this.hashes[words - n + 1]!) | 0;
        count = this.push(count, (((h >>> 0) + n) >>> 0) % buckets);
      }
      words++;
    }
    count = this.push(count, this.eosId);
    return this.ids.slice(0, count);
  }
}
