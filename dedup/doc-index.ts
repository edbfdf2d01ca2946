/** Per-shard list of `[id, utf8 bytes]` in input order, written by map, read by the merge. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { RunFiles } from '../pipeline/run-folder/files.ts';

export type DocIndexEntry = [id: string, bytes: number];

export async function* readDocIndex(files: RunFiles, path: string): AsyncGenerator<DocIndexEntry> {
  if (!(await files.need(path))) throw new Error(`${path}: missing from the run's storage`);
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length > 0) yield JSON.parse(line) as DocIndexEntry;
  }
}
