/**
 * A seeded 32-bit FNV-1a hash of `key` mapped to [0, 1): the same key and seed give the same value
 * on every machine. token-outlier's reference sample uses it. It differs from mixes/sampler.ts
 * `unitHash(seed, text)` (53 bits, another algorithm) on purpose: swapping one for the other would
 * change which documents either stage picks.
 */
export function fnv1aUnitHash(key: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  // final avalanche (murmur3 fmix32) so that nearby keys spread over [0, 1)
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h ^= h >>> 16;
  return (h >>> 0) / 0x100000000; // `^=` leaves a signed int: unsigned before dividing
}
