import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonlWriter } from '../pipeline/io/jsonl-writer.ts';
import { readDocs } from '../pipeline/io/read.ts';

const dir = await mkdtemp(join(tmpdir(), 'refinery-scratch-'));

async function write(path: string, scratch: boolean): Promise<Buffer> {
  const w = await JsonlWriter.open(path, { scratch });
  for (let i = 0; i < 2000; i++) await w.write({ id: `d${i}`, text: `document ${i}: the same words again and again ${i % 7}`, meta: {} });
  await w.close();
  return readFile(path);
}

test('scratch JSONL files are gzip at the fastest level, outputs at the default level; both read back the same', async () => {
  const output = await write(join(dir, 'kept.jsonl.gz'), false);
  const scratch = await write(join(dir, 'between.jsonl.gz'), true);
  // Byte 8 of a gzip member (XFL): 4 = fastest algorithm (level 1), 0 = default levels.
  assert.equal(output[8], 0);
  assert.equal(scratch[8], 4);
  const ids = async (f: string) => {
    const out: string[] = [];
    for await (const it of readDocs(f)) if (it.kind === 'doc') out.push(`${it.doc.id}:${it.doc.text}`);
    return out;
  };
  assert.deepEqual(await ids(join(dir, 'between.jsonl.gz')), await ids(join(dir, 'kept.jsonl.gz')));
});
