/**
 * One-permutation MinHash with optimal densification (Li, Owen & Zhang 2012; Shrivastava 2017,
 * "Optimal densification for fast and accurate minwise hashing"): each shingle is hashed once
 * (64-bit simple tabulation, as in signature.ts), its low half picks one of k bins and the bin
 * keeps the smallest value; an empty bin borrows the value of the first non-empty bin along its
 * own pseudo-random probe sequence. Two documents agree on a bin with probability J, as with k
 * independent hashes, at the cost of one hash per shingle instead of k. Same output layout as
 * `MinHasher.signature`, so bands, LSH and estimates are unchanged.
 */
import { fmix32, splitMix32 } from '../../pipeline/hash.ts';
import { hiHalves } from './signature.ts';

const SIGN = 0x80000000 | 0;

export class OnePermutationHasher {
  private readonly hi: Int32Array;
  private readonly lo: Int32Array;
  private readonly probeSeed: number;

  constructor(
    readonly numHashes: number,
    seed: number,
  ) {
    const next = splitMix32(seed ^ 0x6f7068);
    this.hi = new Int32Array(4 * 256);
    this.lo = new Int32Array(4 * 256);
    for (let i = 0; i < 1024; i++) this.hi[i] = next() | 0;
    for (let i = 0; i < 1024; i++) this.lo[i] = next() | 0;
    this.probeSeed = next();
  }

  signature(shingles: Uint32Array): Uint32Array {
    return this.signatureOfKeys(hiHalves(shingles));
  }

  /** `signature` of the shingles' keys (their hi words) alone. */
  signatureOfKeys(keys: Uint32Array): Uint32Array {
    const K = this.numHashes;
    const T = this.hi;
    const L = this.lo;
    const minHi = new Int32Array(K).fill(0x7fffffff);
    const minLo = new Int32Array(K).fill(0x7fffffff);
    const filled = new Uint8Array(K);
    for (let s = 0; s < keys.length; s++) {
      const x = keys[s]! | 0;
      const b0 = x & 255;
      const b1 = 256 + ((x >>> 8) & 255);
      const b2 = 512 + ((x >>> 16) & 255);
      const b3 = 768 + (x >>> 24);
      const h = T[b0]! ^ T[b1]! ^ T[b2]! ^ T[b3]!;
      const l = L[b0]! ^ L[b1]! ^ L[b2]! ^ L[b3]!;
      // Multiply-shift range reduction of the low half to a bin.
      const bin = Math.floor(((l >>> 0) * K) / 4294967296);
      if (h < minHi[bin]! || (h === minHi[bin] && l < minLo[bin]!) || filled[bin] === 0) {
        minHi[bin] = h;
        minLo[bin] = l;
        filled[bin] = 1;
      }
    }
    const sig = new Uint32Array(2 * K).fill(0xffffffff);
    if (keys.length === 0) return sig;
    for (let k = 0; k < K; k++) {
      let from = k;
      for (let attempt = 1; filled[from] === 0; attempt++) {
        from = Math.floor((fmix32((this.probeSeed ^ Math.imul(k + 1, 0x9e3779b1)) + attempt) * K) / 4294967296);
      }
      sig[2 * k] = (minHi[from]! ^ SIGN) >>> 0;
      sig[2 * k + 1] = (minLo[from]! ^ SIGN) >>> 0;
    }
    return sig;
  }
}
