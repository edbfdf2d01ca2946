/**
 * `output_format: parquet`: kept/ and rejected/ as Parquet files (id, text, meta as JSON text,
 * zstd) that DuckDB reads back with the same ids, texts and meta as the refinery-format run's
 * JSONL; the project's Parquet reader reads them back into the same documents; the accounting
 * holds; a resumed run rewrites a lost shard byte for byte; row groups stay bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';
import { readDocs } from '../pipeline/io/read.ts';
import { ParquetDocWriter, ROW_GROUP_ROWS } from '../pipeline/io/parquet-doc-writer.ts';
import { runRecords, type RunRecord } from '../mixes/run-records.ts';
import type { Doc } from '../pipeline/doc.ts';

const BIN = resolve('bin/refinery.mjs');
const PLUGIN = resolve('tests/fixtures/core/test-stages.ts');

function refinery(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 180_000 });
}

const RECORDS = [
  { id: 'a', text: 'a web page about rivers', source: 'web', url: 'https://example.com/a', date: 1_700_000_000, nested: { list: [1, 2.5, null], s: 'ü €' } },
  { id: 'b', text: 'hi', source: 'web' },
  { id: 'c', text: 'a page in two places', meta: { quality: 0.7 } },
  { id: 'd', text: 'a page in two places', lang: 'en' },
  { id: 'e', text: 'POISON here', source: 'web' },
  { id: 'f', text: 'line one\nline two\t"quoted" \u0000 and 日本語', flags: [true, false] },
];

async function project(format: string | null, records: object[] = RECORDS, extraStage = ''): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-parquet-out-'));
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'a.jsonl'), records.map((r) => JSON.stringify(r)).join('\n') + '\n');
  await writeFile(join(dir, 'p.yaml'), `inputs: ["data/*.jsonl"]\noutput: out\nworkers: 1\nplugins: ["${PLUGIN}"]\nstages: [poison, first-text${extraStage}]\nmax_error_rate: 0.5\n${format ? `output_format: ${format}\n` : ''}`);
  return dir;
}

async function run(dir: string): Promise<string> {
  const r = refinery(['run', join(dir, 'p.yaml'), '-q', '--no-report']);
  assert.equal(r.status, 0, r.stderr);
  return join(dir, 'out');
}

async function jsonl(path: string): Promise<Record<string, unknown>[]> {
  return gunzipSync(await readFile(path)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function duckRows(path: string): Promise<Record<string, unknown>[]> {
  const c = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    const reader = await c.runAndReadAll(`SELECT id, text, meta FROM read_parquet('${path}')`);
    return reader.getRowObjectsJS().map((r) => ({ id: r.id, text: r.text, meta: JSON.parse(r.meta as string) as unknown }));
  } finally {
    c.closeSync();
  }
}

async function duckQuery(sql: string): Promise<unknown[][]> {
  const c = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    return (await c.runAndReadAll(sql)).getRowsJS();
  } finally {
    c.closeSync();
  }
}

async function docsOf(path: string): Promise<Doc[]> {
  const out: Doc[] = [];
  for await (const it of readDocs(path)) if (it.kind === 'doc') out.push(it.doc);
    else assert.fail(`${path}: ${it.error}`);
  return out;
}

test('parquet kept/ and rejected/: DuckDB reads the same ids, texts and meta as the refinery run; the reader gives the same documents; accounting holds', async () => {
  const own = await run(await project(null));
  const pq = await run(await project('parquet'));

  assert.deepEqual(await readdir(join(pq, 'kept')), ['shard-00000.parquet']);
  assert.deepEqual((await readdir(join(pq, 'rejected'))).sort(), ['shard-00000.p1.parquet', 'shard-00000.parquet']);
  // errors/ is the run's own record, in JSONL whatever the format
  assert.deepEqual(await readdir(join(pq, 'errors')), ['shard-00000.jsonl.gz']);

  for (const [dir, file] of [
    ['kept', 'shard-00000'],
    ['rejected', 'shard-00000'],
    ['rejected', 'shard-00000.p1'],
  ] as const) {
    const expected = await jsonl(join(own, dir, `${file}.jsonl.gz`));
    assert.ok(expected.length > 0, `${dir}/${file} has documents`);
    assert.deepEqual(await duckRows(join(pq, dir, `${file}.parquet`)), expected, `${dir}/${file}`);
    assert.deepEqual(await docsOf(join(pq, dir, `${file}.parquet`)), await docsOf(join(own, dir, `${file}.jsonl.gz`)), `${dir}/${file} read back`);
  }
  assert.deepEqual((await duckRows(join(pq, 'kept', 'shard-00000.parquet'))).map((r) => r.id), ['a', 'c', 'f']);

  const columns = await duckQuery(`SELECT path_in_schema, type, compression FROM parquet_metadata('${join(pq, 'kept', 'shard-00000.parquet')}') ORDER BY column_id`);
  assert.deepEqual(columns, [
    ['id', 'BYTE_ARRAY', 'ZSTD'],
    ['text', 'BYTE_ARRAY', 'ZSTD'],
    ['meta', 'BYTE_ARRAY', 'ZSTD'],
  ]);

  // refinery inspect and the report's document lists walk the run's records: the same from Parquet
  const records = async (out: string) => {
    const all: Omit<RunRecord, 'file'>[] = [];
    for await (const { file: _file, ...r } of runRecords(out, ['kept', 'rejected'])) all.push(r);
    // files in name order: shard-00000.p1.parquet sorts before shard-00000.parquet
    return all.sort((a, b) => (a.id < b.id ? -1 : 1));
  };
  const fromParquet = await records(pq);
  assert.equal(fromParquet.length, 5);
  assert.deepEqual(fromParquet, await records(own));

  const stats = async (out: string) => JSON.parse(await readFile(join(out, 'stats.json'), 'utf8')) as { read: { docs: number }; stages: { in: number; kept: number; rejected: number; errored: number; seconds: number }[] };
  const s = await stats(pq);
  assert.deepEqual(s.stages.map((x) => [x.in, x.kept, x.rejected, x.errored]), [[6, 4, 1, 1], [4, 3, 1, 0]]);
  assert.deepEqual(s.stages, (await stats(own)).stages.map((x, i) => ({ ...x, seconds: s.stages[i]!.seconds })));
});

test('a parquet run killed in its last phase resumes to the same bytes; a run that keeps nothing still writes an empty kept shard; a changed format is refused', async () => {
  const reference = await readFile(join(await run(await project('parquet')), 'kept', 'shard-00000.parquet'));
  const base = await mkdtemp(join(tmpdir(), 'refinery-parquet-gate-'));
  const gate = join(base, 'hold');
  await writeFile(gate, '');
  const dir = await project('parquet', RECORDS, `, {stage: slow, options: {ms: 1, hold_while: "${gate}"}}`);
  const first = spawn(process.execPath, [BIN, 'run', join(dir, 'p.yaml'), '-q', '--no-report'], { stdio: 'ignore' });
  const exited = new Promise((r) => first.once('exit', r));
  const tasks = join(dir, 'out', '_work', 'tasks');
  for (let i = 0; !(await readdir(tasks).catch(() => [] as string[])).includes('reduce-1-00000.json'); i++) {
    assert.ok(i < 1200, 'the run reached its last phase');
    await new Promise((r) => setTimeout(r, 100));
  }
  first.kill('SIGKILL');
  await exited;
  assert.deepEqual(await readdir(join(dir, 'out', 'kept')).catch(() => []), [], 'killed before kept/ was written');
  await rm(gate);
  const out = await run(dir);
  assert.deepEqual(await readdir(join(out, 'kept')), ['shard-00000.parquet']);
  assert.deepEqual(await readFile(join(out, 'kept', 'shard-00000.parquet')), reference);

  const p = join(dir, 'p.yaml');
  await writeFile(p, (await readFile(p, 'utf8')).replace('output_format: parquet', 'output_format: refinery'));
  const changed = refinery(['run', p, '-q', '--no-report']);
  assert.equal(changed.status, 1);
  assert.match(changed.stderr, /output_format: was "?parquet"?/);

  const none = await run(await project('parquet', [{ id: 'x', text: 'hi' }, { id: 'y', text: 'yo' }]));
  assert.deepEqual(await readdir(join(none, 'kept')), ['shard-00000.parquet']);
  assert.deepEqual(await duckRows(join(none, 'kept', 'shard-00000.parquet')), []);
  assert.deepEqual((await duckRows(join(none, 'rejected', 'shard-00000.parquet'))).map((r) => r.id), ['x', 'y']);
});

test('row groups are bounded: ROW_GROUP_ROWS documents each, and an empty file has the schema', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-parquet-groups-'));
  const path = join(dir, 'docs.parquet');
  const w = new ParquetDocWriter(path);
  for (let i = 0; i < ROW_GROUP_ROWS + 5; i++) await w.write({ id: `d${i}`, text: `text ${i}`, meta: { i } });
  await w.close();
  assert.equal(w.count, ROW_GROUP_ROWS + 5);
  assert.deepEqual(await duckQuery(`SELECT row_group_id::INT, row_group_num_rows::INT FROM parquet_metadata('${path}') WHERE column_id = 0 ORDER BY row_group_id`), [
    [0, ROW_GROUP_ROWS],
    [1, 5],
  ]);
  const docs = await docsOf(path);
  assert.deepEqual(docs[ROW_GROUP_ROWS + 4], { id: `d${ROW_GROUP_ROWS + 4}`, text: `text ${ROW_GROUP_ROWS + 4}`, meta: { i: ROW_GROUP_ROWS + 4 } });
  assert.deepEqual(await readdir(dir), ['docs.parquet'], 'no temporary file left');

  const empty = join(dir, 'empty.parquet');
  await new ParquetDocWriter(empty).close();
  assert.deepEqual(await duckQuery(`SELECT count(*)::INT FROM read_parquet('${empty}')`), [[0]]);
  assert.deepEqual(await duckQuery(`SELECT column_name FROM (DESCRIBE SELECT * FROM read_parquet('${empty}'))`), [['id'], ['text'], ['meta']]);
  const lazy = new ParquetDocWriter(join(dir, 'lazy.parquet'), { lazy: true });
  await lazy.close();
  assert.deepEqual((await readdir(dir)).sort(), ['docs.parquet', 'empty.parquet']);
});
