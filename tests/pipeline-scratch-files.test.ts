import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { JsonlWriter } from '../pipeline/io/jsonl-writer.ts';
import { readDocs } from '../pipeline/io/read.ts';

const dir = await mkdtemp(join(tmpdir(), 'refinery-scratch-'));

async function write(path: string, scratch: boolean): Promise<Buffer> {
  const w = await JsonlWriter.open(path, { scratch });
  for (let i = 0; i < 2000; i++) await w.write({ id: `d${i}`, text: `document ${i}: the same words again and again ${i % 7}`, meta: {} });
  await w.close();
  return readFile(path);
}

test('scratch JSONL files are gzip of stored (not deflated) blocks, outputs at the default level; both read back the same', async () => {
  const output = await write(join(dir, 'kept.jsonl.gz'), false);
  const scratch = await write(join(dir, 'between.jsonl.gz'), true);
  // Byte 8 of a gzip member (XFL): 4 = fastest algorithms (levels 0 and 1), 0 = default levels.
  assert.equal(output[8], 0);
  assert.equal(scratch[8], 4);
  // Stored blocks: the file is the JSONL plus headers (5 bytes a block of at most 64 KB), not deflated.
  const jsonl = gunzipSync(scratch);
  assert.ok(scratch.length >= jsonl.length && scratch.length < jsonl.length * 1.01 + 64, `scratch ${scratch.length} B for ${jsonl.length} B of JSONL`);
  assert.ok(output.length < jsonl.length / 5);
  const ids = async (f: string) => {
    const out: string[] = [];
    for await (const it of readDocs(f)) if (it.kind === 'doc') out.push(`${it.doc.id}:${it.doc.text}`);
    return out;
  };
  assert.deepEqual(await ids(join(dir, 'between.jsonl.gz')), await ids(join(dir, 'kept.jsonl.gz')));
});

test('a JSONL writer writes every record, in order, across its 64 KB batches, and counts them', async () => {
  const path = join(dir, 'many.jsonl');
  const w = await JsonlWriter.open(path);
  const records = Array.from({ length: 3000 }, (_, i) => ({ id: `r${i}`, text: 'é'.repeat(i % 97) + 'x'.repeat(i % 300), meta: { i } }));
  for (const r of records) await w.write(r);
  assert.equal(w.count, 3000);
  await w.close();
  assert.equal(await readFile(path, 'utf8'), records.map((r) => JSON.stringify(r) + '\n').join(''));
});

test('an aborted JSONL writer leaves no file, whatever it had batched', async () => {
  const path = join(dir, 'aborted.jsonl');
  const w = await JsonlWriter.open(path);
  await w.write({ id: 'a', text: 'short', meta: {} });
  await w.abort();
  await assert.rejects(readFile(path));
});
