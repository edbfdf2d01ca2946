/**
 * The development corpora in ../shared/devdata (see its README): benchmarks read them when they
 * are there and fall back to generated text when they are not, or in quick mode (BENCH_QUICK=1,
 * bench/quick.ts), which never reads them. Never used by tests or the product.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { QUICK } from './quick.ts';

export const DEVDATA = join(import.meta.dirname, '..', '..', 'shared', 'devdata');

/** The path of a devdata file, or undefined when it is absent or in quick mode. */
export function devdataFile(rel: string): string | undefined {
  const path = join(DEVDATA, rel);
  return !QUICK && existsSync(path) ? path : undefined;
}

/** Every record of a devdata JSONL file (plain or .gz), or [] when the file is absent or in quick mode. */
export function readDevdataJsonl<T>(rel: string): T[] {
  const path = devdataFile(rel);
  if (!path) return [];
  const buf = readFileSync(path);
  const text = rel.endsWith('.gz') ? gunzipSync(buf).toString('utf8') : buf.toString('utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}
