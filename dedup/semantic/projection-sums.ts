/**
 * The summing loop of the built-in embedder (hashed-ngram-embedder.ts) in WebAssembly SIMD:
 * `sums[d] += w0·t0[d] + w1·t1[d] + w2·t2[d] + w3·t3[d]` over four projection rows, two dimensions
 * per instruction (f64x2). Each lane does the float64 operations of the scalar code in the same
 * order (a float32 row value widened exactly, one multiply, one add, each rounded; WebAssembly has
 * no fused multiply-add outside relaxed SIMD), so the sums are the same bits. The table and the
 * sums live in the module's memory. SIMD because the best JavaScript loop (eight rows per pass)
 * costs more CPU for the same sums; bench/dedup.bench.ts measures the embedding speed.
 *
 * The module is a few hundred bytes, assembled in code (dedup/wasm-assembler.ts); `add8` is two groups
 * of four in one pass: `sums[d] = (sums[d] + group₁) + group₂`,
 * the same additions as two calls of `add4`.
 */
import { RefineryError } from '../../pipeline/errors.ts';
import { BLOCK, BR, BR_IF, EMPTY, END, F64, F64X2_ADD, F64X2_MUL, F64X2_PROMOTE_LOW_F32X4, F64X2_SPLAT, I32, I32_ADD, I32_CONST, I32_GE_U, I32_SHL, LOCAL_GET, LOCAL_SET, LOOP, V128, V128_LOAD, V128_LOAD64_ZERO, V128_STORE, instantiate, leb128, vec, wasmModule } from '../wasm-assembler.ts';

/** Sums (float64, `dim` + 1 with one spare lane) then the table (float32), 16-byte aligned. */
export class ProjectionSums {
  /** Row `id` is `table[id * dim .. (id + 1) * dim)`. */
  readonly table: Float32Array;
  /** The running sums of one document (entry `dim` is the spare lane of odd dimensions). */
  readonly sums: Float64Array;
  private readonly tableAt: number;
  private readonly rowBytes: number;
  private readonly add4: Add4;
  private readonly add8: Add8;

  constructor(
    rows: number,
    readonly dim: number,
  ) {
    const sumsBytes = align16((dim + 1) * 8);
    // Four spare bytes after the table: an odd row's last pair of lanes reads one float beyond it.
    const bytes = sumsBytes + rows * dim * 4 + 16;
    if (bytes > 2 ** 32) {
      throw new RefineryError(`semantic-dedup: the built-in model's projection table (${rows} rows x ${dim} dims, float32) exceeds the 4 GiB of a WebAssembly memory; lower hashed_ngram.buckets or dim`);
    }
    const { memory, exports } = instantiate(MODULE, bytes);
    this.add4 = exports.add4 as Add4;
    this.add8 = exports.add8 as Add8;
    this.sums = new Float64Array(memory.buffer, 0, dim + 1);
    this.tableAt = sumsBytes;
    this.table = new Float32Array(memory.buffer, sumsBytes, rows * dim);
    this.rowBytes = dim * 4;
  }

  /**
   * Sets `sums` to the rows `ids[0..n)` weighted by `weights[0..n)`, in the embedder's order: four
   * rows per addition to the sums, the last n mod 4 one at a time.
   */
  sum(ids: Int32Array, weights: Float64Array, n: number): void {
    const { sums, table, dim, tableAt: t, rowBytes: rb } = this;
    sums.fill(0);
    let f = 0;
    for (; f + 7 < n; f += 8) {
      this.add8(
        0,
        t + ids[f]! * rb,
        t + ids[f + 1]! * rb,
        t + ids[f + 2]! * rb,
        t + ids[f + 3]! * rb,
        t + ids[f + 4]! * rb,
        t + ids[f + 5]! * rb,
        t + ids[f + 6]! * rb,
        t + ids[f + 7]! * rb,
        weights[f]!,
        weights[f + 1]!,
        weights[f + 2]!,
        weights[f + 3]!,
        weights[f + 4]!,
        weights[f + 5]!,
        weights[f + 6]!,
        weights[f + 7]!,
        rb,
      );
    }
    if (f + 3 < n) {
      this.add4(0, t + ids[f]! * rb, t + ids[f + 1]! * rb, t + ids[f + 2]! * rb, t + ids[f + 3]! * rb, weights[f]!, weights[f + 1]!, weights[f + 2]!, weights[f + 3]!, rb);
      f += 4;
    }
    for (; f < n; f++) {
      const row = ids[f]! * dim;
      const w = weights[f]!;
      for (let d = 0; d < dim; d++) sums[d]! += w * table[row + d]!;
    }
  }
}

type Add4 = (sums: number, r0: number, r1: number, r2: number, r3: number, w0: number, w1: number, w2: number, w3: number, rowBytes: number) => void;
type Add8 = (
  sums: number,
  r0: number, r1: number, r2: number, r3: number, r4: number, r5: number, r6: number, r7: number,
  w0: number, w1: number, w2: number, w3: number, w4: number, w5: number, w6: number, w7: number,
  rowBytes: number,
) => void;

function align16(n: number): number {
  return (n + 15) & ~15;
}

/**
 * `add{4·groups}(sums, r_0 … r_{4g−1}, w_0 … w_{4g−1}, rowBytes)`: for each byte offset i of a
 * row, two dimensions at a time, `sums[i/4 ..] = ((s + group_0) + group_1) …` where
 * `group_k = ((w·t + w·t) + w·t) + w·t` over its four rows (addresses are byte offsets).
 */
function addFunction(groups: number): { type: number[]; body: number[] } {
  const rows = 4 * groups;
  const sums = 0;
  const row = (k: number) => 1 + k;
  const weight = (k: number) => 1 + rows + k;
  const rowBytes = 1 + 2 * rows;
  const i = rowBytes + 1;
  const splat = (k: number) => i + 1 + k;
  const get = (x: number) => [LOCAL_GET, ...leb128(x)];
  const set = (x: number) => [LOCAL_SET, ...leb128(x)];
  /** Two float32 of row k at offset i, widened to an f64x2. */
  const pair = (k: number) => [...get(row(k)), ...get(i), I32_ADD, ...V128_LOAD64_ZERO, 2, 0, ...F64X2_PROMOTE_LOW_F32X4];
  /** The address of sums[i / 4] (8 bytes per float64 for 4 per float32). */
  const sumsAt = [...get(sums), ...get(i), I32_CONST, 1, I32_SHL, I32_ADD];
  const body: number[] = [];
  for (let k = 0; k < rows; k++) body.push(...get(weight(k)), ...F64X2_SPLAT, ...set(splat(k)));
  body.push(BLOCK, EMPTY, LOOP, EMPTY, ...get(i), ...get(rowBytes), I32_GE_U, BR_IF, 1);
  body.push(...sumsAt, ...sumsAt, ...V128_LOAD, 3, 0);
  for (let g = 0; g < groups; g++) {
    for (let k = 4 * g; k < 4 * g + 4; k++) {
      body.push(...get(splat(k)), ...pair(k), ...F64X2_MUL);
      if (k > 4 * g) body.push(...F64X2_ADD);
    }
    body.push(...F64X2_ADD);
  }
  body.push(...V128_STORE, 3, 0, ...get(i), I32_CONST, 8, I32_ADD, ...set(i), BR, 0, END, END, END);
  const locals = vec([[1, I32], [rows, V128]]);
  return {
    type: [0x60, ...vec([[I32], ...Array.from({ length: rows }, () => [I32]), ...Array.from({ length: rows }, () => [F64]), [I32]]), 0],
    body: [...locals, ...body],
  };
}

const MODULE: Uint8Array = (() => {
  const add4 = addFunction(1);
  const add8 = addFunction(2);
  return wasmModule([
    { name: 'add4', ...add4 },
    { name: 'add8', ...add8 },
  ]);
})();
