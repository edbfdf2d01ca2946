/**
 * Just enough of the WebAssembly binary format (https://webassembly.github.io/spec/core/binary/)
 * to assemble small SIMD loops in code (the built-in semantic model, MinHash signatures), from named
 * instructions: no toolchain, nothing downloaded. Each module imports its memory as env.memory.
 */

/** The part of the WebAssembly JavaScript API used here (the project's `lib`, ES2023, does not declare it). */
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
};

// The instructions used; SIMD ones are 0xfd followed by their LEB128 opcode.
export const I32 = 0x7f;
export const F64 = 0x7c;
export const V128 = 0x7b;
export const BLOCK = 0x02;
export const LOOP = 0x03;
export const EMPTY = 0x40;
export const BR = 0x0c;
export const BR_IF = 0x0d;
export const END = 0x0b;
export const LOCAL_GET = 0x20;
export const LOCAL_SET = 0x21;
export const I32_CONST = 0x41;
export const I32_GE_U = 0x4f;
export const I32_ADD = 0x6a;
export const I32_SHL = 0x74;
const simd = (op: number): number[] => [0xfd, ...leb128(op)];
export const V128_LOAD = simd(0x00);
export const V128_STORE = simd(0x0b);
export const V128_LOAD64_SPLAT = simd(0x0a);
export const F64X2_SPLAT = simd(0x14);
export const V128_LOAD64_ZERO = simd(0x5d);
export const F64X2_PROMOTE_LOW_F32X4 = simd(0x5f);
export const F64X2_ADD = simd(0xf0);
export const F64X2_MUL = simd(0xf2);

export function leb128(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

export const vec = (items: number[][]): number[] => [...leb128(items.length), ...items.flat()];
/** Signed LEB128 of an int32. */
export function sleb128(n: number): number[] {
  const out: number[] = [];
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

export const name = (s: string): number[] => vec([...Buffer.from(s, 'utf8')].map((b) => [b]));
export const section = (id: number, body: number[]): number[] => [id, ...leb128(body.length), ...body];

/** A function of a module: its type (`0x60`, params, results) and body (locals, code). */
export interface WasmFunction {
  name: string;
  type: number[];
  body: number[];
}

/** A module exporting `functions` by name, its memory imported as env.memory. */
export function wasmModule(functions: WasmFunction[]): Uint8Array {
  const MEMORY = 0x02;
  const FUNC = 0x00;
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vec(functions.map((f) => f.type))),
    ...section(2, vec([[...name('env'), ...name('memory'), MEMORY, 0x00, 1]])),
    ...section(3, vec(functions.map((_, i) => leb128(i)))),
    ...section(7, vec(functions.map((f, i) => [...name(f.name), FUNC, ...leb128(i)]))),
    ...section(10, vec(functions.map((f) => [...leb128(f.body.length), ...f.body]))),
  ]);
}

/** An instance of `module` with a new memory of at least `bytes`. */
export function instantiate(module: Uint8Array, bytes: number): { memory: { readonly buffer: ArrayBuffer }; exports: Record<string, unknown> } {
  const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(bytes / 65536)) });
  return { memory, exports: new WebAssembly.Instance(new WebAssembly.Module(module), { env: { memory } }).exports };
}
