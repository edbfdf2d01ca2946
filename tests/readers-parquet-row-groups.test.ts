/**
 * A Parquet file with a corrupt row group: the reader reads every other row group and gives one
 * error item for each row it could not read, naming the file, the row and the group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { readDocs } from '../pipeline/io/read.ts';
import type { ReadItem, ReaderOptions } from '../pipeline/io/read-item.ts';

const dir = await mkdtemp(join(tmpdir(), 'refinery-parquet-groups-'));
const duck = await (await DuckDBInstance.create(':memory:')).connect();
test.after(async () => {
  duck.closeSync();
  await rm(dir, { recursive: true, force: true });
});

const ROWS = 20_480;
const GROUP = 2_048;

/** 10 row groups of 2,048 rows written by DuckDB, then bytes flipped inside row group `bad`'s text pages. */
async function fileWithCorruptGroup(bad: number): Promise<string> {
  const intact = join(dir, 'intact.parquet');
  await duck.run(`COPY (SELECT i AS id, 'text of row ' || i || ' ' || md5(i::VARCHAR) AS text FROM range(${ROWS}) t(i)) TO '${intact}' (FORMAT parquet, ROW_GROUP_SIZE ${GROUP})`);
  const chunks = (await duck.runAndReadAll(`SELECT row_group_id, data_page_offset, total_compressed_size FROM parquet_metadata('${intact}') WHERE path_in_schema = 'text' ORDER BY row_group_id`)).getRows();
  assert.equal(chunks.length, ROWS / GROUP);
  const [, offset, size] = chunks[bad]!.map(Number) as [number, number, number];
  const bytes = Buffer.from(await readFile(intact));
  // past the page header, well inside the compressed page data
  for (let i = offset + 64; i < offset + Math.min(size, 400); i++) bytes[i] ^= 0x5a;
  const path = join(dir, `corrupt-${bad}.parquet`);
  await writeFile(path, bytes);
  return path;
}

async function readAll(path: string, options: Partial<ReaderOptions> = {}): Promise<ReadItem[]> {
  const items: ReadItem[] = [];
  for await (const item of readDocs(path, options)) items.push(item);
  return items;
}

const expectedIds = (bad: number) => Array.from({ length: ROWS }, (_, i) => i).filter((i) => Math.floor(i / GROUP) !== bad).map(String);

test('a corrupt later row group costs only its own rows: each is an error item naming the file, the row and the group', async () => {
  const path = await fileWithCorruptGroup(3);
  const items = await readAll(path);
  const docs = items.flatMap((i) => (i.kind === 'doc' ? [i.doc.id] : []));
  const errors = items.filter((i) => i.kind === 'error');
  assert.deepEqual(docs, expectedIds(3), 'every row of the 9 intact groups, in order');
  assert.equal(docs.length, ROWS - GROUP);
  assert.equal(errors.length, GROUP);
  assert.deepEqual(errors.map((e) => e.where.record), Array.from({ length: GROUP }, (_, i) => 3 * GROUP + 1 + i));
  const [error] = errors;
  assert.equal(error!.where.file, path);
  assert.match(error!.kind === 'error' ? error!.error : '', /^row 6145 not read: row group 3 \(rows 6145-8192\) is corrupt, none of its rows could be read: /);
});

test('stripes of a file with a corrupt row group still read every intact row exactly once', async () => {
  const path = await fileWithCorruptGroup(7);
  const stripes = await Promise.all([0, 1, 2].map((part) => readAll(path, { stripe: { part, parts: 3 } })));
  const ids = stripes.flat().flatMap((i) => (i.kind === 'doc' ? [i.doc.id] : [])).sort((a, b) => Number(a) - Number(b));
  assert.deepEqual(ids, expectedIds(7));
  const errors = stripes.flat().filter((i) => i.kind === 'error');
  assert.deepEqual(errors.map((e) => e.where.record).sort((a, b) => a! - b!), Array.from({ length: GROUP }, (_, i) => 7 * GROUP + 1 + i), 'each lost row once, by its own stripe');
  assert.ok(errors.every((e) => e.kind === 'error' && /row group 7 \(rows 14337-16384\) is corrupt/.test(e.error)));
});
