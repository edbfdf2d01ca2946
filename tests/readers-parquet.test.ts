import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readDocs } from '../pipeline/io/read.ts';
import { InputError } from '../pipeline/errors.ts';
import type { ReadItem, ReaderOptions } from '../pipeline/io/read-item.ts';

const dir = await mkdtemp(join(tmpdir(), 'refinery-parquet-'));
const duck = await (await DuckDBInstance.create(':memory:')).connect();
test.after(async () => {
  duck.closeSync();
  await rm(dir, { recursive: true, force: true });
});

/** Parquet written by DuckDB from a SELECT: a real writer, not our own. */
async function parquet(name: string, select: string, rowGroupSize = 122_880): Promise<string> {
  const path = join(dir, name);
  await duck.run(`COPY (${select}) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE ${rowGroupSize})`);
  return path;
}

async function readAll(path: string, options: Partial<ReaderOptions> = {}): Promise<ReadItem[]> {
  const items: ReadItem[] = [];
  for await (const item of readDocs(path, options)) items.push(item);
  return items;
}

function docs(items: ReadItem[]) {
  return items.flatMap((i) => (i.kind === 'doc' ? [i.doc] : []));
}

test('text and id columns become text and id; every other column goes to meta as JSON-safe values', async () => {
  const path = await parquet(
    'types.parquet',
    `SELECT 'doc-' || i AS id, 'Text number ' || i AS text,
       9007199254740993::BIGINT + i AS big, i::BIGINT AS small, (i * 1.25)::DECIMAL(10,2) AS price,
       DATE '2024-02-28' + i::INTEGER AS day, TIMESTAMP '2024-05-01 10:00:00' AS seen, TIME '12:34:56' AS at,
       [i, i + 1] AS list, {'a': i, 'b': 'x'} AS obj, MAP {'k': i} AS map, 'ab\\x00c'::BLOB AS bytes,
       'infinity'::DOUBLE AS inf, (i % 2 = 0) AS even, NULL::VARCHAR AS nothing
     FROM range(2) t(i)`,
  );
  const items = await readAll(path);
  assert.deepEqual(items.map((i) => i.kind), ['doc', 'doc']);
  const [first, second] = docs(items);
  assert.equal(first.id, 'doc-0');
  assert.equal(first.text, 'Text number 0');
  assert.deepEqual(second.meta, {
    big: '9007199254740994', // beyond 2^53: kept exact as a string
    small: 1,
    price: '1.25',
    day: '2024-02-29',
    seen: '2024-05-01T10:00:00.000Z',
    at: '12:34:56',
    list: [1, 2],
    obj: { a: 1, b: 'x' },
    map: { k: 1 },
    bytes: Buffer.from('ab\0c').toString('base64'),
    inf: null,
    even: false,
    nothing: null,
  });
  assert.equal(JSON.stringify(JSON.parse(JSON.stringify(second))), JSON.stringify(second), 'survives a JSON round trip');
  assert.deepEqual(items[1].where, { file: path, record: 2 });
});

test('the text and id columns are configurable; without an id column the id is <file>:<row>', async () => {
  const path = await parquet('custom.parquet', `SELECT i AS n, 'body ' || i AS content, 'web' AS source FROM range(3) t(i)`);
  const byName = docs(await readAll(path, { textField: 'content', idField: 'n' }));
  assert.deepEqual(byName.map((d) => [d.id, d.text]), [['0', 'body 0'], ['1', 'body 1'], ['2', 'body 2']]);
  assert.deepEqual(byName[0].meta, { source: 'web' });
  const noId = docs(await readAll(path, { textField: 'content', meta: { source: 'fallback' } }));
  assert.deepEqual(noId.map((d) => d.id), ['custom.parquet:1', 'custom.parquet:2', 'custom.parquet:3']);
  assert.deepEqual(noId[0].meta, { n: 0, source: 'web' }, 'a source column wins over the input\'s meta default');
});

test('a row with a null text is an error item naming the file and row; the rows after it are read', async () => {
  const path = await parquet('nulls.parquet', `SELECT i AS id, CASE WHEN i = 2 THEN NULL ELSE 'row ' || i END AS text FROM range(5) t(i)`);
  const items = await readAll(path);
  assert.deepEqual(items.map((i) => i.kind), ['doc', 'doc', 'error', 'doc', 'doc']);
  assert.deepEqual(items[2], { kind: 'error', where: { file: path, record: 3 }, id: '2', error: 'row 3 has a null "text"' });
});

test('rows stream across many row groups and record batches, in file order', async () => {
  const path = await parquet('groups.parquet', `SELECT i AS id, 'document ' || i AS text FROM range(5000) t(i)`, 700);
  const items = await readAll(path);
  assert.equal(items.length, 5000);
  assert.ok(items.every((item, k) => item.kind === 'doc' && item.doc.id === String(k) && item.where.record === k + 1));
});

test('a missing or non-string text column stops the run with an InputError listing the columns', async () => {
  const path = await parquet('notext.parquet', `SELECT 1 AS id, 'x' AS body, 2 AS score`);
  await assert.rejects(readAll(path), (e: unknown) => e instanceof InputError && /no text column "text" \(columns: id, body, score\)/.test(e.message));
  await assert.rejects(readAll(path, { textField: 'score' }), (e: unknown) => e instanceof InputError && /text column "score" has type INTEGER, not a string/.test(e.message));
});

test('a file that is not Parquet, an empty file and a file cut short each give one error item', async () => {
  const junk = join(dir, 'junk.parquet');
  await writeFile(junk, '{"id": 1, "text": "I am JSON"}\n');
  const empty = join(dir, 'empty.parquet');
  await writeFile(empty, '');
  const whole = await readFile(await parquet('whole.parquet', `SELECT i AS id, 'text ' || i AS text FROM range(1000) t(i)`));
  const cut = join(dir, 'cut.parquet');
  await writeFile(cut, whole.subarray(0, whole.length - 100));
  for (const path of [junk, empty, cut]) {
    const items = await readAll(path);
    assert.equal(items.length, 1, path);
    assert.equal(items[0].kind, 'error');
    assert.match(items[0].kind === 'error' ? items[0].error : '', /^not a readable Parquet file: /);
    assert.equal(items[0].where.file, path);
  }
});

test('a text longer than max_doc_bytes is an error item', async () => {
  const path = await parquet('long.parquet', `SELECT i AS id, repeat('ab', 100 * (i + 1)) AS text FROM range(3) t(i)`);
  const items = await readAll(path, { maxDocBytes: 400 });
  assert.deepEqual(items.map((i) => i.kind), ['doc', 'doc', 'error']);
  assert.match(items[2].kind === 'error' ? items[2].error : '', /row 3: text is longer than max_doc_bytes \(400 bytes\)/);
});

test('stripes of a large file partition its rows: together they read every row exactly once', async () => {
  const path = await parquet('stripes.parquet', `SELECT i AS id, CASE WHEN i = 2500 THEN NULL ELSE 'row ' || i END AS text FROM range(5000) t(i)`, 700);
  const whole = await readAll(path);
  const parts = 3;
  const stripes = await Promise.all(Array.from({ length: parts }, (_, part) => readAll(path, { stripe: { part, parts } })));
  assert.ok(stripes.every((s) => s.length > 0 && s.length < whole.length));
  const key = (i: ReadItem) => `${i.where.record}:${i.kind}`;
  const merged = stripes.flat().map(key).sort();
  assert.deepEqual(merged, whole.map(key).sort());
  assert.equal(stripes.flat().filter((i) => i.kind === 'error').length, 1);
});

test('a corrupt page gives an error item for each row it cost, naming its row group, without crashing the process', async () => {
  const whole = await readFile(await parquet('intact.parquet', `SELECT i AS id, 'text of row ' || i || ' ' || md5(i::VARCHAR) AS text FROM range(3000) t(i)`, 1000));
  const broken = Buffer.from(whole);
  const at = Math.floor(broken.length * 0.45);
  for (let i = at; i < at + 200; i++) broken[i] ^= 0x5a;
  const path = join(dir, 'corrupt.parquet');
  await writeFile(path, broken);
  const items = await readAll(path);
  const errors = items.filter((i) => i.kind === 'error');
  // DuckDB writes row groups of at least 2,048 rows (its vector size), whatever ROW_GROUP_SIZE asks.
  assert.ok(errors.length > 0 && errors.length <= 2048, `${errors.length} rows lost, at most one row group's`);
  assert.ok(errors.every((e) => e.kind === 'error' && /^row \d+ not read: row group \d+ \(rows \d+-\d+\) is corrupt, /.test(e.error)));
  assert.equal(items.length, 3000, 'every row is a document or an error item');
});
