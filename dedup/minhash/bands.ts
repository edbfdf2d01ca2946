/**
 * LSH banding: the signature is cut into `bands` runs of `rows` values; two documents are
 * candidates when any band is equal. Each band becomes one 64-bit bucket key that also encodes
 * the band index (equal values in different bands must not collide). The probability that a
 * pair at Jaccard s shares a band is 1 − (1 − s^rows)^bands.
 */
import { fmix32, mix32 } from '../../pipeline/hash.ts';

export function bandKeys(signature: Uint32Array, bands: number, rows: number): Uint32Array {
  const keys = new Uint32Array(bands * 2);
  for (let b = 0; b < bands; b++) {
    let h1 = 0x7f4a7c15 ^ b;
    let h2 = 0x94d049bb ^ Math.imul(b, 0x9e3779b9);
    const start = b * rows * 2;
    for (let i = start; i < start + rows * 2; i++) {
      h1 = mix32(h1, signature[i]!);
      h2 = mix32(h2, signature[i]! ^ 0x5bd1e995);
    }
    keys[2 * b] = fmix32(h1 ^ b);
    keys[2 * b + 1] = fmix32(h2 ^ rows);
  }
  return keys;
}

/** Probability that a pair at Jaccard `s` becomes a candidate. */
export function candidateProbability(s: number, bands: number, rows: number): number {
  return 1 - (1 - s ** rows) ** bands;
}
