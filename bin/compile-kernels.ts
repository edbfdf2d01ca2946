/**
 * Build step: compiles the WebAssembly kernels written in text (dedup/minhash/minima.wat, the
 * MinHash minimum loop; classifiers/fasttext/pooling.wat, the quality model's embedding bag) with
 * wabt, a development dependency, so the product loads binaries made from readable source and
 * never compiles at run time. `npm run build` runs this file (`npm ci` builds as `prepare`), writing
 * each binary beside its source, for runs from the sources, and at the same place in dist/, for
 * the compiled command. No network: wabt is JavaScript and WebAssembly from node_modules.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { KERNEL_BINARY } from '../dedup/minhash/minima-kernel.ts';
import { POOLING_BINARY } from '../classifiers/fasttext/pooling-kernel.ts';

const root = resolve(import.meta.dirname, '..');
const MINIMA_SOURCE = join('dedup', 'minhash', 'minima.wat');

/** Every kernel of the product: its source and the binary's path, both from the repository root. */
export const KERNELS: readonly { source: string; binary: string }[] = [
  { source: MINIMA_SOURCE, binary: join('dedup', 'minhash', KERNEL_BINARY) },
  { source: join('classifiers', 'fasttext', 'pooling.wat'), binary: join('classifiers', 'fasttext', POOLING_BINARY) },
];

type Wabt = typeof import('wabt');

/** A kernel's source (`file` names it in errors) compiled and validated: the bytes of its binary. */
export async function compileKernel(file: string, source = readFileSync(resolve(root, file), 'utf8')): Promise<Uint8Array> {
  const wabt = (createRequire(import.meta.url)('wabt') as Wabt)();
  const module = (await wabt).parseWat(file, source, { simd: true });
  try {
    module.validate();
    // No names section: the bytes depend on the instructions alone.
    return module.toBinary({ log: false, write_debug_names: false }).buffer;
  } finally {
    module.destroy();
  }
}

/** minima.wat compiled and validated: the bytes of minima.wasm. */
export function compileMinimaKernel(source?: string): Promise<Uint8Array> {
  return compileKernel(MINIMA_SOURCE, source);
}

if (process.argv[1] && resolve(process.argv[1]) === import.meta.filename) {
  for (const kernel of KERNELS) {
    const bytes = await compileKernel(kernel.source);
    for (const base of [root, join(root, 'dist')]) {
      const file = join(base, kernel.binary);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, bytes);
    }
  }
}
