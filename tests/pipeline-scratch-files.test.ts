import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { JsonlWriter } from '../pipeline/io/jsonl-writer.ts';
import { layout } from '../pipeline/engine/run-plan.ts';

const dir = await mkdtemp(join(tmpdir(), 'refinery-scratch-'));

test('outputs are gzip at the default level; segments between global stages are plain JSONL whatever the compression', async () => {
  const path = join(dir, 'kept.jsonl.gz');
  const w = await JsonlWriter.open(path);
  for (let i = 0; i < 2000; i++) await w.write({ id: `d${i}`, text: `document ${i}: the same words again and again ${i % 7}`, meta: {} });
  await w.close();
  const output = await readFile(path);
  // Byte 8 of a gzip member (XFL): 0 = default levels (4 would be the fastest, levels 0 and 1).
  assert.equal(output[8], 0);
  assert.ok(output.length < gunzipSync(output).length / 5, 'deflated');
  assert.equal(layout.between('/out', 2, 7), join('/out', '_work', 'segment-2', 'shard-00007.jsonl'));
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
