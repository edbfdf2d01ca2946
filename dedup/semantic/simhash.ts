/**
 * Random-hyperplane LSH (SimHash, Charikar 2002) for unit vectors: bit i is the sign of the dot
 * product with Gaussian hyperplane i. Two vectors at angle θ agree on a bit with probability
 * 1 − θ/π; `bands` runs of `rows` bits become bucket keys, so a pair becomes a candidate with
 * probability 1 − (1 − (1 − θ/π)^rows)^bands.
 */
import { fmix32, mix32 } from '../../pipeline/hash.ts';
import { gaussians } from './hashed-ngram-embedder.ts';
import { BLOCK, BR, BR_IF, EMPTY, END, F64X2_ADD, F64X2_MUL, F64X2_PROMOTE_LOW_F32X4, I32, I32_ADD, I32_CONST, I32_GE_U, LOCAL_GET, LOCAL_SET, LOOP, V128, V128_LOAD64_SPLAT, V128_LOAD64_ZERO, V128_STORE, instantiate, leb128, vec, wasmModule } from '../wasm-assembler.ts';

export class SimHashBands {
  /** The vector being hashed, widened to float64 (exactly). */
  private readonly vector: Float64Array;
  /** `dots[p]`: its dot product with hyperplane p (band p / rows, bit p % rows). */
  private readonly dots: Float64Array;
  private readonly vectorAt: number;
  private readonly dotsAt: number;
  private readonly planesAt: number;
  private readonly groups: number;
  private readonly dots8: Dots8;

  constructor(
    readonly dim: number,
    readonly bands: number,
    readonly rows: number,
    seed: number,
  ) {
    const total = bands * rows;
    const planes = gaussians(total * dim, seed ^ 0x73696d);
    // Hyperplanes by pairs, interleaved ([p0[0], p1[0], p0[1], p1[1] …]: one f64x2 lane each), in
    // groups of eight (four pairs, zero planes after the last).
    this.groups = Math.ceil(total / 8);
    const pairBytes = dim * 8;
    this.vectorAt = 0;
    this.dotsAt = align16(dim * 8);
    this.planesAt = this.dotsAt + this.groups * 64;
    const { memory, exports } = instantiate(MODULE, this.planesAt + this.groups * 4 * pairBytes);
    this.dots8 = exports.dots8 as Dots8;
    this.vector = new Float64Array(memory.buffer, this.vectorAt, dim);
    this.dots = new Float64Array(memory.buffer, this.dotsAt, this.groups * 8);
    const interleaved = new Float32Array(memory.buffer, this.planesAt, this.groups * 8 * dim);
    for (let p = 0; p < total; p++) {
      const pair = p >> 1;
      for (let i = 0; i < dim; i++) interleaved[(pair * dim + i) * 2 + (p & 1)] = planes[p * dim + i]!;
    }
  }

  /** `[keyHi, keyLo]` per band for the vector at `offset` in `m`. */
  keys(m: Float32Array, offset: number): Uint32Array {
    const { dim, rows, bands, vector, dots } = this;
    for (let i = 0; i < dim; i++) vector[i] = m[offset + i]!;
    // Eight dot products per call, each summed over i in order in its own f64x2 lane (float32 ×
    // float32 widened is exact; the same additions as one at a time, so the same signs), because
    // JavaScript loops over four dot products per pass or one at a time cost several times more;
    // bench/dedup.bench.ts measures semantic dedup's phases.
    const pairBytes = dim * 8;
    for (let g = 0; g < this.groups; g++) {
      const at = this.planesAt + g * 4 * pairBytes;
      this.dots8(at, at + pairBytes, at + 2 * pairBytes, at + 3 * pairBytes, this.vectorAt, dim * 8, this.dotsAt + g * 64);
    }
    const out = new Uint32Array(bands * 2);
    for (let b = 0; b < bands; b++) {
      let bits = 0;
      let h1 = 0x5eed ^ b;
      for (let r = 0; r < rows; r++) {
        bits = (bits << 1) | (dots[b * rows + r]! >= 0 ? 1 : 0);
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

type Dots8 = (pair0: number, pair1: number, pair2: number, pair3: number, vector: number, bytes: number, out: number) => void;

function align16(n: number): number {
  return (n + 15) & ~15;
}

/**
 * `dots8(pair0 … pair3, vector, bytes, out)`: for i over the vector's bytes (8 per float64), each
 * pair's accumulator += widen(pair_k[2 floats at i]) × splat(vector[i]); the four f64x2 sums
 * stored at `out` (eight float64: planes 2k and 2k + 1 of the group).
 */
const MODULE: Uint8Array = (() => {
  const pair = (k: number) => k;
  const vectorAt = 4;
  const bytes = 5;
  const out = 6;
  const i = 7;
  const acc = (k: number) => 8 + k;
  const x = 12;
  const get = (l: number) => [LOCAL_GET, ...leb128(l)];
  const set = (l: number) => [LOCAL_SET, ...leb128(l)];
  const code: number[] = [BLOCK, EMPTY, LOOP, EMPTY, ...get(i), ...get(bytes), I32_GE_U, BR_IF, 1];
  code.push(...get(vectorAt), ...get(i), I32_ADD, ...V128_LOAD64_SPLAT, 3, 0, ...set(x));
  for (let k = 0; k < 4; k++) {
    code.push(...get(acc(k)), ...get(pair(k)), ...get(i), I32_ADD, ...V128_LOAD64_ZERO, 2, 0, ...F64X2_PROMOTE_LOW_F32X4, ...get(x), ...F64X2_MUL, ...F64X2_ADD, ...set(acc(k)));
  }
  code.push(...get(i), I32_CONST, 8, I32_ADD, ...set(i), BR, 0, END, END);
  for (let k = 0; k < 4; k++) code.push(...get(out), ...get(acc(k)), ...V128_STORE, 3, 16 * k);
  code.push(END);
  return wasmModule([
    {
      name: 'dots8',
      type: [0x60, ...vec([[I32], [I32], [I32], [I32], [I32], [I32], [I32]]), 0],
      body: [...vec([[1, I32], [5, V128]]), ...code],
    },
  ]);
})();
