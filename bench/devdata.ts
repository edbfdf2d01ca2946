/**
 * The development corpora in ../shared/devdata (see its README): benchmarks read them when they
 * are there and fall back to generated text when they are not. Never used by tests or the product.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export const DEVDATA = join(import.meta.dirname, '..', '..', 'shared', 'devdata');

/** Every record of a devdata JSONL file (plain or .gz), or [] when the file is absent. */
export function readDevdataJsonl<T>(rel: string): T[] {
  const path = join(DEVDATA, rel);
  if (!existsSync(path)) return [];
  const buf = readFileSync(path);
  const text = rel.endsWith('.gz') ? gunzipSync(buf).toString('utf8') : buf.toString('utf8');
  return text.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}
