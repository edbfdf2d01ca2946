/**
 * Meta fields survive as data: a record's `__proto__` field (top level or inside `meta`) is an
 * own field of the document's meta, written back to kept/; Dolma's `created` and `added` hold
 * only valid dates, and what is not one stays in `metadata`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { readDocs } from '../pipeline/io/read.ts';
import { dolmaRecord } from '../pipeline/io/document-layout.ts';
import type { Doc } from '../pipeline/doc.ts';
import { tempDir } from './temp-dirs.ts';
import { readJsonlDir } from './output-files.ts';

const LINES = [
  '{"id":"top","text":"one","__proto__":{"polluted":true}}',
  '{"id":"nested","text":"two","meta":{"__proto__":"kept as data","lang":"en"}}',
];

async function docsOf(path: string): Promise<Doc[]> {
  const out: Doc[] = [];
  for await (const it of readDocs(path)) if (it.kind === 'doc') out.push(it.doc);
  return out;
}

test('a __proto__ field of a record is an own field of meta, not its prototype', async () => {
  const dir = await tempDir('refinery-holes-meta-');
  await writeFile(join(dir, 'a.jsonl'), LINES.join('\n') + '\n');
  const [top, nested] = await docsOf(join(dir, 'a.jsonl'));
  assert.equal(Object.getPrototypeOf(top.meta), Object.prototype);
  assert.deepEqual(Object.getOwnPropertyDescriptor(top.meta, '__proto__')?.value, { polluted: true });
  assert.equal(Object.getOwnPropertyDescriptor(nested.meta, '__proto__')?.value, 'kept as data');
  assert.equal(JSON.stringify(nested.meta), '{"__proto__":"kept as data","lang":"en"}');
});

test("an input's default meta may hold __proto__ too: it is set as a field, and a record's own wins", async () => {
  const dir = await tempDir('refinery-holes-meta-defaults-');
  await writeFile(join(dir, 'a.jsonl'), '{"id":"plain","text":"one"}\n' + LINES[0] + '\n');
  const defaults = JSON.parse('{"__proto__": "from the input entry", "source": "web"}') as Record<string, unknown>;
  const docs: Doc[] = [];
  for await (const it of readDocs(join(dir, 'a.jsonl'), { meta: defaults })) if (it.kind === 'doc') docs.push(it.doc);
  assert.deepEqual(docs.map((d) => Object.getOwnPropertyDescriptor(d.meta, '__proto__')?.value), ['from the input entry', { polluted: true }]);
  assert.deepEqual(docs.map((d) => d.meta.source), ['web', 'web']);
});

test('a run writes a __proto__ meta field to kept/ as it read it', async () => {
  const dir = await tempDir('refinery-holes-meta-run-');
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'a.jsonl'), LINES.join('\n') + '\n');
  await writeFile(join(dir, 'p.yaml'), 'inputs: ["data/*.jsonl"]\noutput: out\nworkers: 1\nstages: []\n');
  const r = spawnSync(process.execPath, [resolve('bin/refinery.mjs'), 'run', join(dir, 'p.yaml'), '-q', '--no-report'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const kept = await readJsonlDir<{ id: string; meta: Record<string, unknown> }>(join(dir, 'out', 'kept'));
  assert.deepEqual(
    kept.map((d) => Object.getOwnPropertyDescriptor(d.meta, '__proto__')?.value),
    [{ polluted: true }, 'kept as data'],
  );
});

test("Dolma's created gets only valid dates; the rest stays in metadata", () => {
  const created = (meta: Record<string, unknown>) => dolmaRecord({ id: 'd', text: 't', meta });
  assert.equal(created({ created: '2023-03-20T10:00:00Z' }).created, '2023-03-20T10:00:00Z');
  assert.equal(created({ created: '1999-01-01' }).created, '1999-01-01');
  assert.equal(created({ created: 'Mon, 20 Mar 2023 10:00:00 GMT' }).created, '2023-03-20T10:00:00.000Z');
  for (const bad of ['not a date 5', '1', '2023-02-30', '2023-13-01', '2023-02-28T25:00:00Z', '']) {
    const rec = created({ created: bad });
    assert.equal(rec.created, undefined, bad);
    assert.equal((rec.metadata as Record<string, unknown>).created, bad);
  }
  // An invalid created gives way to the next date field, as a missing one does.
  assert.equal(created({ created: 'soon', date: 1_700_000_000 }).created, '2023-11-14T22:13:20.000Z');
  assert.equal(created({ added: 'yesterday' }).added, undefined);
});
