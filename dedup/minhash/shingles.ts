/**
 * Word n-gram shingles of a normalised text as 64-bit fingerprints: `[hi0, lo0, hi1, lo1, ...]`.
 * A text with fewer than n words is one shingle of all its words (so short texts still match).
 */
import { hashString32, fmix32 } from '../../pipeline/hash.ts';

export function wordShingles(words: string[], n: number): Uint32Array {
  const wa = new Int32Array(words.length);
  const wb = new Int32Array(words.length);
  for (let i = 0; i < words.length; i++) {
    wa[i] = hashString32(words[i]!, WORD_SEED_A);
    wb[i] = hashString32(words[i]!, WORD_SEED_B);
  }
  return shinglesOfWordHashes(wa, wb, words.length, n);
}

/** The two word hashes shingles are made of: `hashString32(word, WORD_SEED_A)` and `…_B`. */
export const WORD_SEED_A = 0x51ed270b;
export const WORD_SEED_B = 0x2f3c9a7d;

/** `wordShingles` from the words' two hashes (`wordHashes(text, WORD_SEED_A, WORD_SEED_B)`). */
export function shinglesOfWordHashes(wa: Int32Array, wb: Int32Array, words: number, n: number): Uint32Array {
  return shingleHashes(wa, wb, words, n, true);
}

/** The hi halves of `shinglesOfWordHashes` only (`[hi0, hi1, ...]`): the keys MinHash hashes. */
export function shingleKeysOfWordHashes(wa: Int32Array, wb: Int32Array, words: number, n: number): Uint32Array {
  return shingleHashes(wa, wb, words, n, false);
}

/**
 * `mix32(state, word)` is `absorb(state, scramble(word))`, and scramble depends on the word only:
 * each word is scrambled once, not once per shingle it is in (n times), and the lo halves are
 * computed only when asked for, so shingling stays a small part of the minhash-only run of
 * bench/pipeline.bench.ts, which measures it.
 */
function shingleHashes(wa: Int32Array, wb: Int32Array, words: number, n: number, both: boolean): Uint32Array {
  if (words === 0) return new Uint32Array(0);
  const width = Math.min(n, words);
  const count = words - width + 1;
  const ka = new Int32Array(words);
  const kb = new Int32Array(words);
  for (let i = 0; i < words; i++) {
    ka[i] = scramble(wa[i]!);
    kb[i] = scramble(wb[i]!);
  }
  const out = new Uint32Array(both ? count * 2 : count);
  const stride = both ? 2 : 1;
  for (let s = 0; s < count; s++) {
    let h1 = 0x3c6ef372;
    for (let j = s; j < s + width; j++) h1 = absorb(absorb(h1, ka[j]!), kb[j]!);
    out[stride * s] = fmix32(h1 ^ width);
    if (both) {
      let h2 = 0x1b873593;
      for (let j = s; j < s + width; j++) h2 = absorb(absorb(h2, kb[j]!), ka[j]!);
      out[2 * s + 1] = fmix32(h2 ^ (width * 0x9e3779b9));
    }
  }
  return out;
}

/** The first half of `mix32` (MurmurHash3's block scramble). */
function scramble(word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  return Math.imul(k, 0x1b873593);
}

/** The second half of `mix32`: `mix32(h, word) === absorb(h, scramble(word))`. */
function absorb(h: number, k: number): number {
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Sorted distinct shingles as 53-bit numbers, for exact Jaccard (collisions ~2^-53 per pair). */
export function shingleSet(shingles: Uint32Array): Float64Array {
  const keys = new Float64Array(shingles.length / 2);
  for (let i = 0; i < keys.length; i++) keys[i] = shingles[2 * i]! * 0x20_0000 + (shingles[2 * i + 1]! >>> 11);
  keys.sort();
  let w = 0;
  for (let i = 0; i < keys.length; i++) if (i === 0 || keys[i] !== keys[i - 1]) keys[w++] = keys[i]!;
  return keys.slice(0, w);
}

/** |A ∩ B| / |A ∪ B| of two sorted distinct sets. */
export function jaccard(a: Float64Array, b: Float64Array): number {
  if (a.length === 0 && b.length === 0) return 1;
  let i = 0;
  let j = 0;
  let inter = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      inter++;
      i++;
      j++;
    } else if (a[i]! < b[j]!) i++;
    else j++;
  }
  return inter / (a.length + b.length - inter);
}
