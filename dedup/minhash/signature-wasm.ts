/**
 * The MinHash minimum loop of signature.ts in WebAssembly SIMD, four hash functions per
 * instruction. The module is assembled here, at load time, from the instructions below (no
 * binary file, no build step): it is specialised for one number of hashes K (a multiple of 4),
 * with the K/4 steps of the inner loop unrolled and every table offset an immediate.
 *
 * Memory: hi table [0, T), lo table [T, 2T) (T = 1024·K·4 bytes, laid out as in signature.ts),
 * minHi [2T, 2T + 4K), minLo [2T + 4K, 2T + 8K), then the shingle keys. `minima(n)` folds the n
 * keys into minHi/minLo with the scalar loop's rule: a value replaces the minimum when its hi is
 * smaller, or equal with a smaller lo (signed comparison of sign-flipped values).
 *
 * Measured on the 46 MB minhash-only pipeline bench: the signatures took 4.8 s of CPU in the
 * scalar loop and ~0.5 s here.
 */

import { leb128 as u, name, section, sleb128 as s, vec } from '../wasm-assembler.ts';

const I32 = 0x7f;
const V128 = 0x7b;
const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  end: [0x0b],
  brIf: (depth: number) => [0x0d, ...u(depth)],
  get: (i: number) => [0x20, ...u(i)],
  set: (i: number) => [0x21, ...u(i)],
  tee: (i: number) => [0x22, ...u(i)],
  i32Load: (offset: number) => [0x28, 2, ...u(offset)],
  i32Const: (n: number) => [0x41, ...s(n)],
  i32Eqz: [0x45],
  i32LtU: [0x49],
  i32Add: [0x6a],
  i32Mul: [0x6c],
  i32And: [0x71],
  i32Shl: [0x74],
  i32ShrU: [0x76],
  v128Load: (offset: number) => [0xfd, 0x00, 4, ...u(offset)],
  v128Store: (offset: number) => [0xfd, 0x0b, 4, ...u(offset)],
  i32x4Eq: [0xfd, 0x37],
  i32x4LtS: [0xfd, 0x39],
  i32x4LeS: [0xfd, 0x3d],
  v128And: [0xfd, 0x4e],
  v128Or: [0xfd, 0x50],
  v128Xor: [0xfd, 0x51],
  v128Bitselect: [0xfd, 0x52],
  v128AnyTrue: [0xfd, 0x53],
};

/** Byte offsets of the memory regions for K hashes. */
export function wasmLayout(K: number): { tables: number; minHi: number; minLo: number; keys: number } {
  const tables = 1024 * K * 4;
  return { tables, minHi: 2 * tables, minLo: 2 * tables + 4 * K, keys: 2 * tables + 8 * K };
}

/** The module's bytes for K hashes (K a multiple of 4). */
export function minimaModule(K: number): Uint8Array {
  const { tables, minHi, minLo, keys } = wasmLayout(K);
  const Kb = 4 * K;
  // Locals: 0 n (param); 1 p, 2 end, 3 x, 4-7 a0-a3 (row offsets of the key's 4 bytes); 8 h, 9 m, 10 l, 11 ml, 12 mask.
  const [N, P, END, X, A0, H, M, L, ML, MASK] = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12];
  const xorRows = (offset: number): number[] => [
    ...op.get(A0), ...op.v128Load(offset),
    ...op.get(A0 + 1), ...op.v128Load(offset), ...op.v128Xor,
    ...op.get(A0 + 2), ...op.v128Load(offset), ...op.v128Xor,
    ...op.get(A0 + 3), ...op.v128Load(offset), ...op.v128Xor,
  ];
  const rowOffset = (shift: number, row: number): number[] => [
    ...op.get(X), ...(shift ? [...op.i32Const(shift), ...op.i32ShrU] : []), ...(shift < 24 ? [...op.i32Const(255), ...op.i32And] : []),
    ...(row ? [...op.i32Const(row * 256), ...op.i32Add] : []), ...op.i32Const(Kb), ...op.i32Mul, ...op.set(A0 + row),
  ];
  const steps: number[] = [];
  for (let k = 0; k < Kb; k += 16) {
    steps.push(
      ...xorRows(k), ...op.tee(H),
      ...op.i32Const(0), ...op.v128Load(minHi + k), ...op.tee(M),
      ...op.i32x4LeS, ...op.v128AnyTrue,
      ...op.if,
      ...xorRows(tables + k), ...op.tee(L),
      ...op.i32Const(0), ...op.v128Load(minLo + k), ...op.tee(ML),
      ...op.i32x4LtS, ...op.get(H), ...op.get(M), ...op.i32x4Eq, ...op.v128And,
      ...op.get(H), ...op.get(M), ...op.i32x4LtS, ...op.v128Or, ...op.set(MASK),
      ...op.i32Const(0), ...op.get(H), ...op.get(M), ...op.get(MASK), ...op.v128Bitselect, ...op.v128Store(minHi + k),
      ...op.i32Const(0), ...op.get(L), ...op.get(ML), ...op.get(MASK), ...op.v128Bitselect, ...op.v128Store(minLo + k),
      ...op.end,
    );
  }
  const body = [
    ...vec([[7, I32], [5, V128]]),
    ...op.i32Const(keys), ...op.set(P),
    ...op.i32Const(keys), ...op.get(N), ...op.i32Const(2), ...op.i32Shl, ...op.i32Add, ...op.set(END),
    ...op.block,
    ...op.get(N), ...op.i32Eqz, ...op.brIf(0),
    ...op.loop,
    ...op.get(P), ...op.i32Load(0), ...op.set(X),
    ...rowOffset(0, 0), ...rowOffset(8, 1), ...rowOffset(16, 2), ...rowOffset(24, 3),
    ...steps,
    ...op.get(P), ...op.i32Const(4), ...op.i32Add, ...op.tee(P), ...op.get(END), ...op.i32LtU, ...op.brIf(0),
    ...op.end,
    ...op.end,
    ...op.end,
  ];
  const pages = Math.ceil((keys + 65536) / 65536);
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([[0x60, ...vec([[I32]]), ...vec([])]])),
    ...section(3, vec([[0]])),
    ...section(5, vec([[0x00, ...u(pages)]])),
    ...section(7, vec([[...name('minima'), 0x00, 0], [...name('memory'), 0x02, 0]])),
    ...section(10, vec([[...u(body.length), ...body]])),
  ]);
}

/** The part of the WebAssembly API used here (the project's TypeScript libraries do not declare it). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

/** The SIMD minimum loop for K hashes with its tables loaded, or undefined where it cannot run. */
export class WasmMinima {
  private mem: Int32Array;
  private readonly layout: ReturnType<typeof wasmLayout>;

  private constructor(
    private readonly K: number,
    private readonly memory: WasmMemory,
    private readonly minima: (n: number) => void,
  ) {
    this.layout = wasmLayout(K);
    this.mem = new Int32Array(memory.buffer);
  }

  static create(K: number, hi: Int32Array, lo: Int32Array): WasmMinima | undefined {
    if (K % 4 !== 0 || K === 0) return undefined;
    const bytes = minimaModule(K);
    if (!wasm?.validate(bytes)) return undefined; // no WebAssembly SIMD here
    const instance = new wasm.Instance(new wasm.Module(bytes));
    const { minima, memory } = instance.exports as { minima: (n: number) => void; memory: WasmMemory };
    const w = new WasmMinima(K, memory, minima);
    w.mem.set(hi, 0);
    w.mem.set(lo, w.layout.tables / 4);
    return w;
  }

  /** Fills minHi/minLo (sign-flipped, as the scalar loop) from the shingle keys. */
  run(keys: Uint32Array, minHi: Int32Array, minLo: Int32Array): void {
    const n = keys.length;
    const { minHi: mh, minLo: ml, keys: at } = this.layout;
    const need = at + 4 * n;
    if (need > this.memory.buffer.byteLength) {
      this.memory.grow(Math.ceil((need - this.memory.buffer.byteLength) / 65536));
      this.mem = new Int32Array(this.memory.buffer);
    }
    const mem = this.mem;
    mem.set(keys, at >>> 2);
    mem.fill(0x7fffffff, mh >>> 2, (ml >>> 2) + this.K);
    this.minima(n);
    minHi.set(mem.subarray(mh >>> 2, (mh >>> 2) + this.K));
    minLo.set(mem.subarray(ml >>> 2, (ml >>> 2) + this.K));
  }
}
