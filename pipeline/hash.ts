/**
 * The project's non-cryptographic hashing of strings and words, in one place: fast 32-bit
 * functions with Math.imul only (no BigInt on the hot path). Callers that need 64 bits combine two
 * independent 32-bit hashes as a pair of unsigned halves (hi, lo). Each function's output is part
 * of what a run writes (dedup keys, sampled documents), so none may change: two similar ones stay
 * distinct on purpose. fastText's FNV-1a is not here: it belongs to fastText's feature definition
 * (classifiers/fasttext/features.ts).
 */

/** MurmurHash3's 32-bit finaliser: every input bit affects every output bit. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** FNV-1a over the UTF-16 code units of a string slice, its offset basis XORed with `seed`. */
function fnv1aSeeded(s: string, seed: number, start: number, end: number): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = start; i < end; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return h;
}

/** One 32-bit hash of a string slice; `seed` picks an independent function (dedup keys). */
export function hashString32(s: string, seed: number, start = 0, end = s.length): number {
  return fmix32(fnv1aSeeded(s, seed, start, end) ^ (end - start));
}

/**
 * A seeded FNV-1a of `key` with the fmix32 avalanche, mapped to [0, 1): token-outlier's reference
 * sample. Unlike hashString32 it does not mix in the length.
 */
export function fnv1aUnitHash(key: string, seed: number): number {
  return fmix32(fnv1aSeeded(key, seed, 0, key.length)) / 0x100000000;
}

/**
 * A uniform number in [0, 1) from (seed, text): two 32-bit multiply-xorshift lanes (MurmurHash3's
 * finaliser constants) combined into 53 bits. The mix sampler's draw of a document's extra copy.
 */
export function unitHash(seed: number, text: string): number {
  let h1 = 0xdeadbeef ^ (seed >>> 0);
  let h2 = 0x41c6ce57 ^ Math.floor(seed / 0x100000000);
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b) ^ Math.imul(h2 ^ (h2 >>> 13), 0xc2b2ae35);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 0x85ebca6b) ^ Math.imul(h1 ^ (h1 >>> 13), 0xc2b2ae35);
  h1 ^= h2 >>> 15;
  h1 = Math.imul(h1 ^ (h1 >>> 16), 0x85ebca6b);
  h1 ^= h1 >>> 13;
  return ((h2 >>> 0) * 0x200000 + ((h1 >>> 0) >>> 11)) / 0x20000000000000;
}

/** Mixes one more 32-bit word into a running 32-bit state (murmur3 body step). */
export function mix32(state: number, word: number): number {
  let k = Math.imul(word, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  let h = state ^ k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** Deterministic 32-bit generator (SplitMix32) for hash tables and projections from a seed. */
export function splitMix32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) | 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}
