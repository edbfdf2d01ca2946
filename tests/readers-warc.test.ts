import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WARCRecord, WARCSerializer, type WARCRecordOpts } from 'warcio';
import { readDocs } from '../pipeline/io/read.ts';
import type { ReadItem } from '../pipeline/io/read-item.ts';

const dir = await mkdtemp(join(tmpdir(), 'refinery-warc-'));
test.after(() => rm(dir, { recursive: true, force: true }));

const ARTICLE = `<!doctype html><html lang="en"><head><title>Tide pools</title><style>p{color:red}</style></head><body>
<nav><a href="/">Home</a> | <a href="/about">About</a> | <a href="/shop">Shop</a></nav>
<header>Site of the Sea</header>
<article><h1>Tide pools</h1>
<p>Tide pools are rocky pools on the seashore that are filled with seawater when the tide goes out. Many of them are habitats of especially adaptable animals.</p>
<p>The animals that live in tide pools must survive a changing environment: water temperature, salinity and oxygen content change from hour to hour.</p>
<p>Sea stars, mussels and clams live there, and so do anemones, which sting small fish that swim within reach of their tentacles.</p>
<script>var tracking = "do not read me";</script>
</article>
<footer>Copyright 2024 Site of the Sea. All rights reserved.</footer></body></html>`;

interface Spec extends WARCRecordOpts {
  body?: string | Uint8Array;
}

async function warcBytes(specs: Spec[], gzip: boolean): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for (const { body, ...opts } of specs) {
    const bytes = typeof body === 'string' ? new TextEncoder().encode(body) : (body ?? new Uint8Array());
    const record = WARCRecord.create({ warcVersion: 'WARC/1.1', date: '2024-05-18T01:58:10Z', ...opts }, (async function* () {
      yield bytes;
    })());
    parts.push(await WARCSerializer.serialize(record, { gzip }));
  }
  return Buffer.concat(parts);
}

async function writeWarc(name: string, specs: Spec[]): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, await warcBytes(specs, name.endsWith('.gz')));
  return path;
}

async function readAll(path: string, options = {}): Promise<ReadItem[]> {
  const items: ReadItem[] = [];
  for await (const item of readDocs(path, options)) items.push(item);
  return items;
}

const html = (body: string, contentType = 'text/html; charset=utf-8'): Spec => ({
  type: 'response',
  url: 'https://example.org/tide-pools',
  httpHeaders: { 'Content-Type': contentType },
  body,
});

const crawl: Spec[] = [
  { type: 'warcinfo', filename: 'crawl.warc.gz', body: 'software: test\r\n' },
  { type: 'request', url: 'https://example.org/tide-pools', httpHeaders: { Host: 'example.org' }, statusline: 'GET /tide-pools HTTP/1.1' },
  html(ARTICLE),
  { type: 'metadata', url: 'https://example.org/tide-pools', warcHeaders: { 'Content-Type': 'application/warc-fields' }, body: 'fetchTimeMs: 12\r\n' },
  { type: 'response', url: 'https://example.org/logo.png', httpHeaders: { 'Content-Type': 'image/png' }, body: new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0, 1, 2, 3]) },
  { type: 'response', url: 'https://example.org/robots.txt', httpHeaders: { 'Content-Type': 'text/plain' }, body: 'User-agent: *\nDisallow: /shop\n' },
];

test('a .warc.gz yields HTML responses as their main text, with url, date and record id in meta', async () => {
  const items = await readAll(await writeWarc('crawl.warc.gz', crawl));
  const docs = items.filter((i) => i.kind === 'doc');
  assert.equal(docs.length, 2, 'the HTML page and the text/plain response');
  const page = docs[0].doc;
  assert.match(page.text, /^Tide pools are rocky pools/, 'Readability drops an <h1> that repeats the title; the title is in meta');
  assert.match(page.text, /Sea stars, mussels and clams live there/);
  assert.doesNotMatch(page.text, /Shop|Copyright|tracking|color:red/, 'menus, footers, scripts and styles are not text');
  assert.equal(page.text.split('\n').length, 3, 'one line per paragraph');
  assert.equal(page.meta.url, 'https://example.org/tide-pools');
  assert.equal(page.meta.date, '2024-05-18T01:58:10Z');
  assert.match(page.id, /^<urn:uuid:[0-9a-f-]+>$/);
  assert.equal(page.meta.warc_record_id, page.id);
  assert.equal(page.meta.http_status, 200);
  assert.equal(page.meta.html_lang, 'en');
  assert.equal(page.meta.title, 'Tide pools');
  assert.equal(docs[1].doc.text, 'User-agent: *\nDisallow: /shop\n');
});

test('warcinfo, request and metadata records are skipped; a non-text response is an error item naming its type and offset', async () => {
  const items = await readAll(await writeWarc('skip.warc.gz', crawl));
  assert.equal(items.length, 3, 'two documents and one error; the three protocol records are skipped');
  const errors = items.filter((i) => i.kind === 'error');
  assert.equal(errors.length, 1);
  const e = errors[0];
  assert.equal(e.kind, 'error');
  assert.match(e.error, /record 5 at byte \d+: response record is image\/png, not text \(https:\/\/example\.org\/logo\.png\)/);
  assert.ok(e.where.offset !== undefined && e.where.offset > 0);
  assert.match(e.id ?? '', /^<urn:uuid:/);
});

test('WET conversion records are text already, plain or gzipped', async () => {
  const specs: Spec[] = [
    { type: 'warcinfo', filename: 'x.wet', body: 'isPartOf: CC-MAIN-2024-22\r\n' },
    { type: 'conversion', url: 'https://an.wikipedia.org/wiki/Escopete', warcHeaders: { 'Content-Type': 'text/plain', 'WARC-Identified-Content-Language': 'arg,spa' }, body: 'Escopete\nEscopete ye un municipio d\'a provincia de Guadalachara.' },
    { type: 'conversion', url: 'https://example.com/ja', warcHeaders: { 'Content-Type': 'text/plain' }, body: '日本語のテキストです。' },
  ];
  for (const name of ['crawl.wet', 'crawl.wet.gz']) {
    const items = await readAll(await writeWarc(name, specs));
    assert.deepEqual(items.map((i) => i.kind), ['doc', 'doc'], name);
    const [a, b] = items.map((i) => (i.kind === 'doc' ? i.doc : null));
    assert.equal(a?.text, "Escopete\nEscopete ye un municipio d'a provincia de Guadalachara.");
    assert.equal(a?.meta.url, 'https://an.wikipedia.org/wiki/Escopete');
    assert.equal(a?.meta.identified_language, 'arg,spa');
    assert.equal(b?.text, '日本語のテキストです。');
  }
});

test('a page is decoded with the charset its HTTP header or <meta> declares', async () => {
  const latin1 = Buffer.from('<html><body><p>Caf\u00e9 cr\u00e8me, na\u00efve fa\u00e7ade, \u00e0 bient\u00f4t.</p></body></html>', 'latin1');
  const metaOnly = Buffer.concat([Buffer.from('<html><head><meta charset="windows-1252"></head><body><p>'), Buffer.from([0x93]), Buffer.from('quoted'), Buffer.from([0x94]), Buffer.from(' text</p></body></html>')]);
  const items = await readAll(
    await writeWarc('charset.warc', [
      { ...html(''), body: latin1, httpHeaders: { 'Content-Type': 'text/html; charset=ISO-8859-1' } },
      { ...html(''), body: metaOnly, httpHeaders: { 'Content-Type': 'text/html' } },
    ]),
  );
  assert.deepEqual(
    items.map((i) => (i.kind === 'doc' ? i.doc.text : i.error)),
    ['Café crème, naïve façade, à bientôt.', '\u201cquoted\u201d text'],
  );
});

test('a truncated .warc.gz yields the complete records, then one error with the byte offset', async () => {
  const specs = [html(ARTICLE), html(ARTICLE.replace('Tide pools', 'Second page')), html(ARTICLE.replace('Tide pools', 'Third page'))];
  const whole = await warcBytes(specs, true);
  const path = join(dir, 'cut.warc.gz');
  await writeFile(path, whole.subarray(0, whole.length - 200));
  const items = await readAll(path);
  assert.deepEqual(items.map((i) => i.kind), ['doc', 'doc', 'error']);
  const last = items[2];
  assert.equal(last.kind, 'error');
  assert.match(last.error, /cut\.warc\.gz: record 3 at byte \d+: cannot read on \(truncated or corrupt file\?\): unexpected end of file/);
  assert.ok((last.where.offset ?? 0) > 0);
});

test('a truncated plain .warc is caught by the record Content-Length', async () => {
  const whole = await warcBytes([html(ARTICLE), html(ARTICLE)], false);
  const path = join(dir, 'cut.warc');
  await writeFile(path, whole.subarray(0, whole.length - 300));
  const items = await readAll(path);
  assert.deepEqual(items.map((i) => i.kind), ['doc', 'error']);
  assert.equal(items[1].kind, 'error');
  assert.match(items[1].kind === 'error' ? items[1].error : '', /record 2 at byte \d+: file ends inside this record: \d+ of its \d+ bytes \(Content-Length\) are missing/);
});

test('a record longer than max_doc_bytes is an error item and reading goes on', async () => {
  const big = html(`<html><body><p>${'word '.repeat(5000)}</p></body></html>`);
  const path = await writeWarc('big.warc.gz', [big, html(ARTICLE)]);
  const items = await readAll(path, { maxDocBytes: 10_000 });
  assert.deepEqual(items.map((i) => i.kind), ['error', 'doc']);
  assert.match(items[0].kind === 'error' ? items[0].error : '', /response record of \d+ bytes is longer than max_doc_bytes \(10000\)/);
});

test('a file that is not a WARC gives one error item; an empty .warc nothing, an empty .warc.gz an error', async () => {
  const junk = join(dir, 'notes.warc');
  await writeFile(junk, 'These are my notes.\nNot a web archive.\n');
  const items = await readAll(junk);
  assert.equal(items.length, 1);
  assert.match(items[0].kind === 'error' ? items[0].error : '', /not a WARC record/);
  const empty = join(dir, 'empty.warc');
  await writeFile(empty, '');
  assert.deepEqual(await readAll(empty), []);
  const emptyGz = join(dir, 'empty.warc.gz');
  await writeFile(emptyGz, '');
  const gzItems = await readAll(emptyGz);
  assert.equal(gzItems.length, 1, 'zero bytes are not a gzip stream');
  assert.match(gzItems[0].kind === 'error' ? gzItems[0].error : '', /empty\.warc\.gz: at byte 0: cannot read on/);
});

test('reading the same WARC twice gives identical documents', async () => {
  const path = await writeWarc('twice.warc.gz', crawl);
  assert.equal(JSON.stringify(await readAll(path)), JSON.stringify(await readAll(path)));
  assert.ok((await readFile(path)).length > 0);
});

test('stripes of a large WARC partition its records, and the truncation error is reported once', async () => {
  const specs: Spec[] = [{ type: 'warcinfo', filename: 'many.wet', body: 'x: y\r\n' }];
  for (let i = 0; i < 2300; i++) specs.push({ type: 'conversion', url: `https://example.com/${i}`, warcHeaders: { 'Content-Type': 'text/plain' }, body: `page ${i}` });
  const whole = await warcBytes(specs, true);
  const path = join(dir, 'many.wet.gz');
  await writeFile(path, whole.subarray(0, whole.length - 20));
  const all = await readAll(path);
  assert.equal(all.at(-1)?.kind, 'error');
  const parts = 2;
  const stripes = await Promise.all(Array.from({ length: parts }, (_, part) => readAll(path, { stripe: { part, parts } })));
  assert.ok(stripes.every((s) => s.length > 0 && s.length < all.length));
  const key = (i: ReadItem) => (i.kind === 'doc' ? i.doc.text : i.error);
  assert.deepEqual(stripes.flat().map(key).sort(), all.map(key).sort());
});

test('a WAT file (metadata records only) gives no documents', async () => {
  const path = await writeWarc('crawl.warc.wat.gz', [
    { type: 'warcinfo', filename: 'crawl.warc.wat.gz', body: 'format: WARC\r\n' },
    { type: 'metadata', url: 'https://example.org/', warcHeaders: { 'Content-Type': 'application/json' }, body: '{"Envelope":{}}' },
  ]);
  assert.deepEqual(await readAll(path), []);
});
