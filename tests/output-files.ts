/** Reading a run's JSONL outputs back in tests: every record of every shard in a folder, in file order. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

export async function readJsonlDir<T = Record<string, unknown>>(dir: string): Promise<T[]> {
  const rows: T[] = [];
  for (const f of (await readdir(dir).catch(() => [] as string[])).sort()) {
    const buf = await readFile(join(dir, f));
    const text = f.endsWith('.gz') ? gunzipSync(buf).toString('utf8') : buf.toString('utf8');
    for (const l of text.split('\n')) if (l.trim()) rows.push(JSON.parse(l) as T);
  }
  return rows;
}
