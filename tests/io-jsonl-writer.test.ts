import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { JsonlWriter } from '../pipeline/io/jsonl-writer.ts';

const dir = await mkdtemp(join(tmpdir(), 'refinery-jsonl-writer-'));

/** Writes the records as the task loop does: awaiting only the promises the writer returns. */
async function writeAll(path: string, records: unknown[]): Promise<JsonlWriter> {
  const w = await JsonlWriter.open(path);
  for (const r of records) {
    const wait = w.write(r);
    if (wait) await wait;
  }
  await w.close();
  return w;
}

const expected = (records: unknown[]) => records.map((r) => JSON.stringify(r) + '\n').join('');

test('lines longer than a whole chunk, between short ones, are written whole and in order', async () => {
  const path = join(dir, 'long.jsonl');
  const records = [
    { id: 'a', text: 'short', meta: {} },
    { id: 'b', text: 'x'.repeat(300_000), meta: { n: 1 } },
    { id: 'c', text: 'é'.repeat(100_000), meta: {} },
    { id: 'd', text: 'short again', meta: {} },
    { id: 'e', text: '語'.repeat(90_000), meta: {} },
  ];
  const w = await writeAll(path, records);
  assert.equal(w.count, records.length);
  assert.equal(await readFile(path, 'utf8'), expected(records));
});

test('multi-byte text (2, 3 and 4 bytes a character, lone surrogates) is encoded as Buffer.from encodes the JSON line', async () => {
  const path = join(dir, 'utf8.jsonl');
  const records = Array.from({ length: 4000 }, (_, i) => ({ id: `r${i}`, text: ['é', '語', '😀', '\ud800', 'a'][i % 5]!.repeat(1 + (i * 37) % 2000), meta: { i } }));
  await writeAll(path, records);
  assert.ok((await readFile(path)).equals(Buffer.from(expected(records))));
});

test('gzip output decompresses to exactly the lines, whatever the chunk boundaries fall on', async () => {
  const path = join(dir, 'lines.jsonl.gz');
  const records = Array.from({ length: 3000 }, (_, i) => ({ id: `g${i}`, text: `line ${i} `.repeat(1 + (i % 400)), meta: { k: i % 3 } }));
  await writeAll(path, records);
  assert.equal(gunzipSync(await readFile(path)).toString('utf8'), expected(records));
});

test('a writer with no records writes an empty file', async () => {
  const path = join(dir, 'empty.jsonl');
  await writeAll(path, []);
  assert.equal(await readFile(path, 'utf8'), '');
});
