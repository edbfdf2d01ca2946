/**
 * Build step: compiles minima.wat (the MinHash minimum loop in WebAssembly text) to minima.wasm
 * with wabt, a development dependency, so the product loads a binary made from readable source
 * and never compiles at run time. `npm run build` runs this file (`npm ci` builds as `prepare`),
 * writing minima.wasm beside the source, for runs from the sources, and into dist/, for the
 * compiled command. No network: wabt is JavaScript and WebAssembly from node_modules.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { KERNEL_BINARY } from './minima-kernel.ts';

const here = import.meta.dirname;
export const KERNEL_SOURCE = join(here, 'minima.wat');

type Wabt = typeof import('wabt');

/** minima.wat compiled and validated: the bytes of minima.wasm. */
export async function compileMinimaKernel(source = readFileSync(KERNEL_SOURCE, 'utf8')): Promise<Uint8Array> {
  const wabt = (createRequire(import.meta.url)('wabt') as Wabt)();
  const module = (await wabt).parseWat('minima.wat', source, { simd: true });
  try {
    module.validate();
    // No names section: the bytes depend on the instructions alone.
    return module.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  const bytes = await compileMinimaKernel();
  const root = resolve(here, '..', '..');
  for (const dir of [here, join(root, 'dist', 'dedup', 'minhash')]) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, KERNEL_BINARY), bytes);
  }
}
