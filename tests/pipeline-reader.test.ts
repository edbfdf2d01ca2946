import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readDocs } from '../pipeline/io/read.ts';
import { JsonlWriter } from '../pipeline/io/jsonl-writer.ts';
import type { ReadItem } from '../pipeline/io/read-item.ts';
import { InputError } from '../pipeline/errors.ts';

async function collect(file: string, opts = {}): Promise<ReadItem[]> {
  const out: ReadItem[] = [];
  for await (const it of readDocs(file, opts)) out.push(it);
  return out;
}

const dir = await mkdtemp(join(tmpdir(), 'refinery-reader-'));
const lines = (...xs: string[]) => xs.join('\n') + '\n';

test('JSONL: each bad line becomes an error item naming the file and line; good lines survive', async () => {
  const f = join(dir, 'mixed.jsonl');
  await writeFile(f, lines('{"id":"a","text":"one","source":"s","meta":{"url":"u"}}', '{"id":"b", "text": ', '{"id":"c"}', '{"id":"d","text":null}', '[1,2]', '', '{"text":"no id"}'));
  const items = await collect(f);
  assert.equal(items.length, 6);
  const [a, b, c, d, e, g] = items;
  assert.deepEqual(a, { kind: 'doc', doc: { id: 'a', text: 'one', meta: { source: 's', url: 'u' } }, where: { file: f, line: 1 } });
  assert.ok(b!.kind === 'error' && b.error.startsWith('malformed JSON') && b.where.line === 2 && b.raw === '{"id":"b", "text": ');
  assert.ok(c!.kind === 'error' && /no "text" field/.test(c.error) && c.where.line === 3 && c.id === 'c');
  assert.ok(d!.kind === 'error' && /"text" is null/.test(d.error));
  assert.ok(e!.kind === 'error' && /not a JSON object/.test(e.error));
  assert.ok(g!.kind === 'doc' && g.doc.id === 'mixed.jsonl:7', 'a missing id becomes file:line');
});

test('JSONL: invalid UTF-8 fails only its line', async () => {
  const f = join(dir, 'utf8.jsonl');
  const bad = Buffer.concat([Buffer.from('{"id":"x","text":"caf'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]);
  await writeFile(f, Buffer.concat([Buffer.from('{"id":"ok","text":"é"}\n'), bad, Buffer.from('{"id":"ok2","text":"z"}\n')]));
  const items = await collect(f);
  assert.deepEqual(items.map((i) => i.kind), ['doc', 'error', 'doc']);
  assert.ok(items[1]!.kind === 'error' && /invalid UTF-8/.test(items[1]!.error) && items[1]!.where.line === 2);
});

test('JSONL.gz: a truncated file yields the documents before the cut, then an error with the offset', async () => {
  const body = Array.from({ length: 2000 }, (_, i) => JSON.stringify({ id: String(i), text: `document number ${i} `.repeat(20) })).join('\n') + '\n';
  const gz = gzipSync(body);
  const f = join(dir, 'cut.jsonl.gz');
  await writeFile(f, gz.subarray(0, Math.floor(gz.length / 2)));
  const items = await collect(f);
  const docs = items.filter((i) => i.kind === 'doc');
  const errors = items.filter((i) => i.kind === 'error');
  assert.ok(docs.length > 100 && docs.length < 2000, `read ${docs.length} docs before the cut`);
  assert.ok(errors.length >= 1);
  const last = errors[errors.length - 1]!;
  assert.ok(last.kind === 'error' && /unexpected end of file/i.test(last.error) && typeof last.where.offset === 'number');
});

test('JSONL.zst and .gz written by JsonlWriter read back identically', async () => {
  for (const ext of ['.jsonl.zst', '.jsonl.gz', '.jsonl']) {
    const f = join(dir, `round${ext}`);
    const w = await JsonlWriter.open(f);
    for (let i = 0; i < 3000; i++) await w.write({ id: `d${i}`, text: `text ${i} ünïcödé 漢字`, meta: { n: i } });
    await w.close();
    const items = await collect(f);
    assert.equal(items.length, 3000, ext);
    assert.deepEqual(items[2999], { kind: 'doc', doc: { id: 'd2999', text: 'text 2999 ünïcödé 漢字', meta: { n: 2999 } }, where: { file: f, line: 3000 } });
  }
});

test('an empty file yields nothing; a missing path is an InputError naming it', async () => {
  const f = join(dir, 'empty.jsonl');
  await writeFile(f, '');
  assert.deepEqual(await collect(f), []);
  await assert.rejects(collect(join(dir, 'nope.jsonl')), (e: unknown) => e instanceof InputError && e.message.includes('nope.jsonl') && e.message.includes('no such file'));
});

test('a 50 MB document is read whole; one over max_doc_bytes goes to errors with a preview', async () => {
  const big = 'x'.repeat(50 * 1024 * 1024);
  const f = join(dir, 'big.jsonl');
  await writeFile(f, `{"id":"big","text":"${big}"}\n{"id":"after","text":"small"}\n`);
  const items = await collect(f);
  assert.equal(items.length, 2);
  assert.ok(items[0]!.kind === 'doc' && items[0]!.doc.text.length === big.length);
  const capped = await collect(f, { maxDocBytes: 1024 * 1024 });
  assert.equal(capped[0]!.kind, 'error');
  assert.ok(capped[0]!.kind === 'error' && /longer than max_doc_bytes/.test(capped[0]!.error) && capped[0]!.raw!.length === 1024);
  assert.ok(capped[1]!.kind === 'doc' && capped[1]!.doc.id === 'after', 'reading goes on after an oversized line');
});

test('custom text and id fields', async () => {
  const f = join(dir, 'fields.jsonl');
  await writeFile(f, lines('{"doc_id":7,"content":"hello","text":"other"}'));
  const [it] = await collect(f, { textField: 'content', idField: 'doc_id' });
  assert.deepEqual(it, { kind: 'doc', doc: { id: '7', text: 'hello', meta: { text: 'other' } }, where: { file: f, line: 1 } });
});

test('max_doc_bytes applies to every line, also short files read in one chunk', async () => {
  const f = join(dir, 'small-lines.jsonl');
  const long = JSON.stringify({ id: 'a', text: 'x'.repeat(300) });
  await writeFile(f, lines(long, JSON.stringify({ id: 'b', text: 'ok' })));
  const items = await collect(f, { maxDocBytes: 100 });
  assert.deepEqual(items.map((i) => i.kind), ['error', 'doc']);
  assert.ok(items[0]!.kind === 'error' && items[0]!.error.includes(`line of ${long.length} bytes is longer than max_doc_bytes (100 bytes)`), items[0]!.kind === 'error' ? items[0]!.error : '');
});

test('a read error in a striped file is reported by exactly one stripe', async () => {
  const body = Array.from({ length: 3000 }, (_, i) => JSON.stringify({ id: String(i), text: `document ${i} `.repeat(10) })).join('\n') + '\n';
  const gz = gzipSync(body);
  const f = join(dir, 'cut-striped.jsonl.gz');
  await writeFile(f, gz.subarray(0, Math.floor(gz.length * 0.6)));
  const all = await collect(f);
  const parts = await Promise.all([0, 1].map((part) => collect(f, { stripe: { part, parts: 2 } })));
  const errs = (items: ReadItem[]) => items.filter((i) => i.kind === 'error').length;
  assert.equal(errs(parts[0]!) + errs(parts[1]!), errs(all));
  assert.equal(parts[0]!.length + parts[1]!.length, all.length, 'the stripes together read what one reader reads');
});
