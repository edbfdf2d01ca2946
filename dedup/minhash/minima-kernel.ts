/**
 * The MinHash minimum loop of signature.ts in WebAssembly SIMD: minima.wasm, compiled from
 * minima.wat by the build (bin/compile-kernels.ts). minima.wat says what the loop computes and how its
 * memory is laid out; this file loads the module, writes the tables once and runs it per document.
 */
import { kernelInstance, kernelModule, type WasmMemory } from '../../pipeline/wasm/kernel-module.ts';

/** The compiled kernel's file name, beside this module in the sources and in dist/. */
export const KERNEL_BINARY = 'minima.wasm';

/** Byte offsets of the memory regions for K hashes, as minima.wat lays them out. */
export function kernelLayout(K: number): { tables: number; minHi: number; minLo: number; keys: number } {
  const tables = 1024 * K * 4;
  return { tables, minHi: 2 * tables, minLo: 2 * tables + 4 * K, keys: 2 * tables + 8 * K };
}

/** The SIMD minimum loop for K hashes with its tables loaded, or undefined where it cannot run. */
export class MinimaKernel {
  private mem: Int32Array;
  private readonly layout: ReturnType<typeof kernelLayout>;

  private constructor(
    private readonly K: number,
    private readonly memory: WasmMemory,
    private readonly minima: (K: number, n: number) => void,
  ) {
    this.layout = kernelLayout(K);
    this.mem = new Int32Array(memory.buffer);
  }

  static create(K: number, hi: Int32Array, lo: Int32Array): MinimaKernel | undefined {
    if (K % 4 !== 0 || K === 0) return undefined;
    const module = kernelModule(new URL(KERNEL_BINARY, import.meta.url), 'minima.wat');
    if (!module) return undefined;
    const { minima, memory } = kernelInstance(module) as { minima: (K: number, n: number) => void; memory: WasmMemory };
    const kernel = new MinimaKernel(K, memory, minima);
    kernel.reserve(0);
    kernel.mem.set(hi, 0);
    kernel.mem.set(lo, kernel.layout.tables / 4);
    return kernel;
  }

  /** Grows the memory to hold n keys after the tables and minima. */
  private reserve(n: number): void {
    const need = this.layout.keys + 4 * n;
    const have = this.memory.buffer.byteLength;
    if (need <= have) return;
    this.memory.grow(Math.ceil((need - have) / 65536));
    this.mem = new Int32Array(this.memory.buffer);
  }

  /** Fills minHi/minLo (sign-flipped, as the scalar loop) from the shingle keys. */
  run(keys: Uint32Array, minHi: Int32Array, minLo: Int32Array): void {
    const n = keys.length;
    const { minHi: mh, minLo: ml, keys: at } = this.layout;
    this.reserve(n);
    const mem = this.mem;
    mem.set(keys, at >>> 2);
    mem.fill(0x7fffffff, mh >>> 2, (ml >>> 2) + this.K);
    this.minima(this.K, n);
    minHi.set(mem.subarray(mh >>> 2, (mh >>> 2) + this.K));
    minLo.set(mem.subarray(ml >>> 2, (ml >>> 2) + this.K));
  }
}
