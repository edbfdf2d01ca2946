import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { createRequire } from 'node:module';
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

test('.zst output keeps its frames where they have always been: chunks end after the line that brings them to 64 Ki characters, a frame at the first chunk past 1 MiB', async () => {
  const path = join(dir, 'frames.jsonl.zst');
  // Long lines among short ones, multi-byte text: chunk ends by characters and by bytes differ.
  const records = Array.from({ length: 6000 }, (_, i) => ({ id: `z${i}`, text: (i % 97 === 0 ? '語é'.repeat(30_000 + i) : `line ${i} `.repeat(1 + (i % 60))), meta: { i } }));
  await writeAll(path, records);
  // The expected file, built from that rule with the same zstd build and level.
  const zstd = createRequire(import.meta.url)('@bokuweb/zstd-wasm') as { init(): Promise<void>; compress(b: Uint8Array, level: number): Uint8Array };
  await zstd.init();
  const frames: Buffer[] = [];
  let frame: Buffer[] = [];
  let frameBytes = 0;
  let chunk = '';
  const endChunk = () => {
    const bytes = Buffer.from(chunk);
    chunk = '';
    frame.push(bytes);
    frameBytes += bytes.length;
    if (frameBytes < 1 << 20) return;
    frames.push(Buffer.from(zstd.compress(Buffer.concat(frame), 3)));
    frame = [];
    frameBytes = 0;
  };
  for (const r of records) {
    chunk += JSON.stringify(r) + '\n';
    if (chunk.length >= 1 << 16) endChunk();
  }
  if (chunk !== '') endChunk();
  if (frameBytes > 0) frames.push(Buffer.from(zstd.compress(Buffer.concat(frame), 3)));
  assert.ok(frames.length > 3, `${frames.length} frames`);
  assert.ok((await readFile(path)).equals(Buffer.concat(frames)), 'the .zst bytes are those of the frames the rule gives');
});
