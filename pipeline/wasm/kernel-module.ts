/**
 * Loading the product's WebAssembly kernels: each is a binary compiled by the build from a text
 * source beside it (bin/compile-kernels.ts), read and compiled once per process. A runtime that
 * cannot validate it (no WebAssembly SIMD) gets no module, and the kernel's caller takes its
 * plain TypeScript path.
 */
import { existsSync, readFileSync } from 'node:fs';

/** The part of the WebAssembly API the kernels use (the project's TypeScript libraries do not declare it). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: Record<string, unknown> };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

const modules = new Map<string, object | null>();

/** The compiled module of the binary `file`, or undefined where it cannot run; `source` names the text it is built from. */
export function kernelModule(file: URL, source: string): object | undefined {
  let compiled = modules.get(file.href);
  if (compiled === undefined) {
    if (!existsSync(file)) throw new Error(`${file.pathname} is missing: \`npm run build\` compiles it from ${source} beside it`);
    const bytes = new Uint8Array(readFileSync(file));
    compiled = wasm?.validate(bytes) ? new wasm.Module(bytes) : null;
    modules.set(file.href, compiled);
  }
  return compiled ?? undefined;
}

/** A new instance of a kernel's module: its exports (functions and its memory). */
export function kernelInstance(module: object): Record<string, unknown> {
  if (!wasm) throw new Error('WebAssembly is not available in this runtime');
  return new wasm.Instance(module).exports;
}
