/**
 * Random-hyperplane LSH (SimHash, Charikar 2002) for unit vectors: bit i is the sign of the dot
 * product with Gaussian hyperplane i. Two vectors at angle θ agree on a bit with probability
 * 1 − θ/π; `bands` runs of `rows` bits become bucket keys, so a pair becomes a candidate with
 * probability 1 − (1 − (1 − θ/π)^rows)^bands.
 */
import { fmix32, mix32 } from '../../pipeline/hash.ts';
import { gaussians } from './hashed-ngram-embedder.ts';

export class SimHashBands {
  private readonly planes: Float32Array;

  constructor(
    readonly dim: number,
    readonly bands: number,
    readonly rows: number,
    seed: number,
  ) {
    this.planes = gaussians(bands * rows * dim, seed ^ 0x73696d);
  }

  /** `[keyHi, keyLo]` per band for the vector at `offset` in `m`. */
  keys(m: Float32Array, offset: number): Uint32Array {
    const out = new Uint32Array(this.bands * 2);
    const { dim, rows } = this;
    for (let b = 0; b < this.bands; b++) {
      let bits = 0;
      let h1 = 0x5eed ^ b;
      for (let r = 0; r < rows; r++) {
        const p = (b * rows + r) * dim;
        let dot = 0;
        for (let i = 0; i < dim; i++) dot += this.planes[p + i] * m[offset + i];
        bits = (bits << 1) | (dot >= 0 ? 1 : 0);
        if ((r & 31) === 31) {
          h1 = mix32(h1, bits);
          bits = 0;
        }
      }
      h1 = mix32(h1, bits);
      out[2 * b] = fmix32(h1 ^ rows);
      out[2 * b + 1] = fmix32(mix32(h1, 0x62616e64 + b));
    }
    return out;
  }
}
