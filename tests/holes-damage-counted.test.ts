/**
 * Damage is counted as what was lost: every row of a corrupt Parquet row group is an errored
 * document, so a file whose groups are mostly unreadable fails max_error_rate; a gzip or WARC
 * reader stopped by damage says how many bytes of the compressed file it never read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { DuckDBInstance } from '@duckdb/node-api';
import { WARCRecord, WARCSerializer } from 'warcio';
import { readDocs } from '../pipeline/io/read.ts';
import type { ReadItem } from '../pipeline/io/read-item.ts';
import { tempDir } from './temp-dirs.ts';

const ROWS = 20_480;
const GROUP = 2_048;

async function readAll(path: string): Promise<ReadItem[]> {
  const items: ReadItem[] = [];
  for await (const item of readDocs(path)) items.push(item);
  return items;
}

/** A Parquet file of ten row groups, with bytes flipped inside the text pages of the groups `bad`. */
async function parquetWithCorruptGroups(dir: string, bad: number[]): Promise<string> {
  const duck = await (await DuckDBInstance.create(':memory:')).connect();
  try {
    const intact = join(dir, 'intact.parquet');
    await duck.run(`COPY (SELECT i AS id, 'text of row ' || i || ' ' || md5(i::VARCHAR) AS text FROM range(${ROWS}) t(i)) TO '${intact}' (FORMAT parquet, ROW_GROUP_SIZE ${GROUP})`);
    const chunks = (await duck.runAndReadAll(`SELECT data_page_offset, total_compressed_size FROM parquet_metadata('${intact}') WHERE path_in_schema = 'text' ORDER BY row_group_id`)).getRows();
    const bytes = Buffer.from(await readFile(intact));
    for (const g of bad) {
      const [offset, size] = chunks[g]!.map(Number) as [number, number];
      for (let i = offset + 64; i < offset + Math.min(size, 400); i++) bytes[i] ^= 0x5a;
    }
    const path = join(dir, 'data', 'corrupt.parquet');
    await mkdir(join(dir, 'data'), { recursive: true });
    await writeFile(path, bytes);
    return path;
  } finally {
    duck.closeSync();
  }
}

test('a Parquet file with most row groups corrupt counts their rows as errored and fails max_error_rate', async () => {
  const dir = await tempDir('refinery-holes-damage-');
  const path = await parquetWithCorruptGroups(dir, [1, 2, 3, 5, 7, 8]);
  const items = await readAll(path);
  assert.equal(items.filter((i) => i.kind === 'doc').length, 4 * GROUP);
  assert.equal(items.filter((i) => i.kind === 'error').length, 6 * GROUP, 'one error item for each row not read');

  await writeFile(join(dir, 'p.yaml'), 'inputs: ["data/*.parquet"]\noutput: out\nworkers: 1\nstages: []\n');
  const r = spawnSync(process.execPath, [resolve('bin/refinery.mjs'), 'run', join(dir, 'p.yaml'), '-q', '--no-report'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /12288 of 20480 documents errored \(60(\.0)?%\): more than max_error_rate/);
  const stats = JSON.parse(await readFile(join(dir, 'out', 'stats.json'), 'utf8')) as { read: { docs: number; errors: number } };
  assert.deepEqual([stats.read.docs, stats.read.errors], [4 * GROUP, 6 * GROUP]);
});

/** Bytes of the file that a reader stopped by damage says it did not read. */
function unreadBytes(error: string): number {
  const m = /the decompressor stopped in compressed bytes \d+-\d+: the (\d+) bytes of the file's \d+ from byte \d+ on were not read/.exec(error);
  assert.ok(m, error);
  return Number(m[1]);
}

test('a .jsonl.gz damaged in its middle: the error says how many compressed bytes were not read', async () => {
  const dir = await tempDir('refinery-holes-gzip-');
  const lines = Array.from({ length: 20_000 }, (_, i) => JSON.stringify({ id: `d${i}`, text: `document ${i} ${Math.sin(i)}` }));
  const bytes = gzipSync(lines.join('\n') + '\n');
  const middle = Math.floor(bytes.length / 2);
  for (let i = middle; i < middle + 64; i++) bytes[i] ^= 0xff;
  const path = join(dir, 'damaged.jsonl.gz');
  await writeFile(path, bytes);
  const items = await readAll(path);
  const last = items.at(-1)!;
  assert.equal(last.kind, 'error');
  const unread = unreadBytes(last.kind === 'error' ? last.error : '');
  // Deflate may decode damaged bytes into garbage (malformed lines, each an error item) before a
  // later block or the checksum fails: what was not read starts where it stopped.
  assert.ok(unread > 0 && unread < bytes.length, `${unread} bytes not read of ${bytes.length}, damage at ${middle}`);
  assert.ok(items.filter((i) => i.kind === 'doc').length >= 5_000, 'the documents before the damage are read');
});

test('a .warc.gz with a damaged record: the error says how many compressed bytes were not read', async () => {
  const dir = await tempDir('refinery-holes-warc-');
  const parts: Uint8Array[] = [];
  for (let i = 0; i < 600; i++) {
    // Hex digests, which gzip barely shrinks: each record is a few KB of the compressed file.
    const body = new TextEncoder().encode(Array.from({ length: 100 }, (_, k) => createHash('md5').update(`${i}:${k}`).digest('hex')).join(' '));
    const record = WARCRecord.create({ warcVersion: 'WARC/1.1', type: 'conversion', url: `https://example.org/${i}`, warcHeaders: { 'Content-Type': 'text/plain' } }, (async function* () {
      yield body;
    })());
    parts.push(await WARCSerializer.serialize(record, { gzip: true }));
  }
  const bytes = Buffer.concat(parts);
  const damagedAt = parts.slice(0, 300).reduce((n, p) => n + p.byteLength, 0) + 20;
  for (let i = damagedAt; i < damagedAt + 32; i++) bytes[i] ^= 0xff;
  const path = join(dir, 'damaged.warc.gz');
  await writeFile(path, bytes);
  const items = await readAll(path);
  const last = items.at(-1)!;
  assert.equal(last.kind, 'error');
  assert.ok(items.filter((i) => i.kind === 'doc').length >= 100, 'the records before the damaged piece are read');
  const unread = unreadBytes(last.kind === 'error' ? last.error : '');
  // Located to within one piece fed to the decompressor (256 KB).
  assert.ok(unread >= bytes.length - damagedAt && unread <= bytes.length - damagedAt + (1 << 18), `${unread} bytes not read of ${bytes.length}, damage at ${damagedAt}`);
});
