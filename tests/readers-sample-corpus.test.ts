import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { readDocs } from '../pipeline/io/read.ts';

const corpus = join(import.meta.dirname, '../examples/corpus');

test('every file of the sample corpus reads with the expected documents and errors', async () => {
  const expected: Record<string, { docs: number; errors: number }> = {
    'code.parquet': { docs: 53, errors: 0 },
    'debian-history.warc.gz': { docs: 30, errors: 1 }, // the image/png response: not text
    'debian-history.wet.gz': { docs: 5, errors: 0 },
    'email.jsonl.gz': { docs: 260, errors: 0 },
    'generated-lowquality.jsonl.gz': { docs: 120, errors: 0 },
    'multilingual.jsonl.gz': { docs: 300, errors: 0 },
    'speeches.jsonl.gz': { docs: 39, errors: 0 },
  };
  assert.deepEqual(readdirSync(corpus).sort(), Object.keys(expected).sort());
  const langs = new Set<string>();
  for (const [file, want] of Object.entries(expected)) {
    let docs = 0;
    let errors = 0;
    for await (const item of readDocs(join(corpus, file))) {
      if (item.kind === 'error') errors++;
      else {
        docs++;
        assert.ok(item.doc.text.length > 0, `${file}: ${item.doc.id} has text`);
        assert.ok(typeof item.doc.meta.source === 'string' || typeof item.doc.meta.url === 'string', `${file}: ${item.doc.id} says where it is from`);
        if (typeof item.doc.meta.lang === 'string') langs.add(item.doc.meta.lang);
      }
    }
    assert.deepEqual({ docs, errors }, want, file);
  }
  assert.deepEqual([...langs].sort(), ['de', 'en', 'es', 'it', 'ru', 'zh']);
});
