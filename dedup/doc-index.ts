/** Per-shard list of `[id, utf8 bytes]` in input order, written by map, read by the merge. */
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

export type DocIndexEntry = [id: string, bytes: number];

export async function* readDocIndex(path: string): AsyncGenerator<DocIndexEntry> {
  const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length > 0) yield JSON.parse(line) as DocIndexEntry;
  }
}
