/**
 * The embedding bag of the fastText-style model in WebAssembly SIMD: pooling.wasm, compiled from
 * pooling.wat by the build (bin/compile-kernels.ts). pooling.wat says what the loop
 * computes, why its sums are the ONNX graph's bit for bit, and how its memory is laid out; this
 * file loads the module, writes one model's embedding table into its memory once and pools
 * batches of documents.
 */
import { kernelInstance, kernelModule, type WasmMemory } from '../../pipeline/wasm/kernel-module.ts';

/** The compiled kernel's file name, beside this module in the sources and in dist/. */
export const POOLING_BINARY = 'pooling.wasm';

type Pool = (dim: number, buckets: number, docs: number, ids: number, ends: number, weights: number, out: number) => number;

/** A WebAssembly memory holds at most 2^32 bytes. */
const MAX_MEMORY = 2 ** 32;

/** One model's embedding table in the kernel's memory, pooling batches of documents. */
export class PoolingKernel {
  private i32: Int32Array;
  private f32: Float32Array;
  private readonly tableBytes: number;

  private constructor(
    readonly buckets: number,
    readonly dim: number,
    private readonly memory: WasmMemory,
    private readonly poolBatch: Pool,
  ) {
    this.tableBytes = buckets * dim * 4;
    this.i32 = new Int32Array(memory.buffer);
    this.f32 = new Float32Array(memory.buffer);
  }

  /**
   * The kernel holding `embedding` ([buckets × dim], row-major), or undefined where it cannot run:
   * dim not a multiple of 4, no WebAssembly SIMD, or a table too large for a WebAssembly memory.
   */
  static create(embedding: Float32Array, buckets: number, dim: number): PoolingKernel | undefined {
    if (dim % 4 !== 0 || dim === 0 || embedding.length !== buckets * dim || buckets * dim * 4 >= MAX_MEMORY / 2) return undefined;
    const module = kernelModule(new URL(POOLING_BINARY, import.meta.url), 'pooling.wat');
    if (!module) return undefined;
    const { pool, memory } = kernelInstance(module) as { pool: Pool; memory: WasmMemory };
    const kernel = new PoolingKernel(buckets, dim, memory, pool);
    kernel.reserve(0);
    kernel.f32.set(embedding, 0);
    return kernel;
  }

  /** Grows the memory to `bytes` after the table. */
  private reserve(bytes: number): void {
    const need = this.tableBytes + bytes;
    if (need > MAX_MEMORY) throw new RangeError(`a batch of ${bytes} bytes of features does not fit beside the embedding table in a WebAssembly memory: score smaller batches`);
    const have = this.memory.buffer.byteLength;
    if (need <= have) return;
    this.memory.grow(Math.ceil((need - have) / 65536));
    this.i32 = new Int32Array(this.memory.buffer);
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /**
   * The pooled rows of a batch, [documents × dim] row-major: for each document the sum of its
   * features' rows, each times 1 / its feature count, as the whole ONNX graph computes it.
   */
  pool(batch: readonly Int32Array[]): Float32Array {
    const docs = batch.length;
    const { dim } = this;
    let total = 0;
    for (const f of batch) {
      if (f.length === 0) throw new RangeError('every document needs at least one feature (the </s> token)');
      total += f.length;
    }
    // After the table: ends, weights, the pooled rows, then the ids (all 4-byte values).
    const ends = this.tableBytes;
    const weights = ends + 4 * docs;
    const out = weights + 4 * docs;
    const ids = out + 4 * docs * dim;
    this.reserve(4 * (2 * docs + docs * dim + total));
    const { i32, f32 } = this;
    let at = ids >>> 2;
    let count = 0;
    for (let d = 0; d < docs; d++) {
      const f = batch[d]!;
      i32.set(f, at);
      at += f.length;
      count += f.length;
      i32[(ends >>> 2) + d] = count;
      f32[(weights >>> 2) + d] = 1 / f.length;
    }
    const bad = this.poolBatch(dim, this.buckets, docs, ids, ends, weights, out);
    if (bad >= 0) throw new RangeError(`feature id ${i32[(ids >>> 2) + bad]} is outside the model's ${this.buckets} embedding rows`);
    return f32.slice(out >>> 2, (out >>> 2) + docs * dim);
  }
}
