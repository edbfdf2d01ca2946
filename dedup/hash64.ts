/**
 * Fast non-cryptographic 32-bit hashing on UTF-16 strings and on words, with Math.imul only
 * (no BigInt on the hot path). Callers that need 64 bits combine two independent 32-bit hashes
 * as a pair of unsigned halves (hi, lo).
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

/** One 32-bit hash of a string slice; `seed` picks an independent function. */
export function hashString32(s: string, seed: number, start = 0, end = s.length): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = start; i < end; i++) {
    h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  }
  return fmix32(h ^ (end - start));
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
