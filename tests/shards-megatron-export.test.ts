/**
 * `refinery export megatron`: tokenized shards (documents and packed) → `<prefix>.bin` + `.idx`,
 * read back by a reader written here from the MMIDIDX description (Megatron-LM
 * megatron/core/datasets/indexed_dataset.py, `_IndexWriter`/`_IndexReader`), every token
 * compared with the Parquet shards as DuckDB reads them.
 */
import { test } from 'node:test';
import { tempDir } from './temp-dirs.ts';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Doc } from '../pipeline/doc.ts';
import type { GlobalStage } from '../pipeline/stage.ts';
import { sharedLlama3Tokenizer } from '../pipeline/tokenizer/llama3-tokenizer.ts';
import { tokenizeStage } from '../mixes/shards/tokenize.ts';
import type { TokenizeOptions } from '../mixes/shards/tokenize-options.ts';
import type { TokenizeManifest } from '../mixes/shards/manifest.ts';
import { exportMegatron } from '../mixes/shards/megatron-export.ts';
import { main } from '../bin/cli.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';


const WORDS = ['the', 'river', 'data', 'token', 'Llama', 'ünïcode', '東京', 'код', '42', '🙂', '\n', 'def', '{', '}'];
function corpus(shards: number, perShard: number): Doc[][] {
  let state = 777;
  const rnd = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: shards }, (_, s) =>
    Array.from({ length: perShard }, (_, i) => ({
      id: `s${s}-d${i}`,
      text: Array.from({ length: 1 + Math.floor(rnd() * 60) }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' '),
      meta: { source: 'web' },
    })),
  );
}

async function* iterate<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

async function tokenize(shards: Doc[][], options: Partial<TokenizeOptions>): Promise<string> {
  const out = await tempDir('refinery-megatron-');
  const stage = (await tokenizeStage.create(tokenizeStage.options.parse(options) as TokenizeOptions, {
    baseDir: out, outputDir: out, workDir: join(out, 'work'), seed: 0, keyPath: 'stages[0]', files: folderFiles,
  })) as GlobalStage;
  for (let i = 0; i < shards.length; i++) await stage.map({ index: i, count: shards.length }, iterate(shards[i]!));
  await stage.reduce(0, shards.length);
  return out;
}

interface IndexedDataset {
  dtypeCode: number;
  sequenceLengths: number[];
  sequencePointers: bigint[];
  documentIndices: bigint[];
  sequences: number[][];
}

/**
 * The format as documented: magic "MMIDIDX\0\0", uint64 version 1, uint8 dtype code
 * (4 int32, 8 uint16), uint64 sequence count, uint64 document count, int32 lengths, int64
 * pointers (byte offsets in .bin), int64 document indices; all little-endian.
 */
async function readIndexedDataset(prefix: string): Promise<IndexedDataset> {
  const idx = await readFile(`${prefix}.idx`);
  const bin = await readFile(`${prefix}.bin`);
  assert.equal(idx.subarray(0, 9).toString('latin1'), 'MMIDIDX\x00\x00');
  assert.equal(idx.readBigUInt64LE(9), 1n);
  const dtypeCode = idx.readUInt8(17);
  const sequenceCount = Number(idx.readBigUInt64LE(18));
  const documentCount = Number(idx.readBigUInt64LE(26));
  let at = 34;
  const sequenceLengths: number[] = [];
  for (let i = 0; i < sequenceCount; i++, at += 4) sequenceLengths.push(idx.readInt32LE(at));
  const sequencePointers: bigint[] = [];
  for (let i = 0; i < sequenceCount; i++, at += 8) sequencePointers.push(idx.readBigInt64LE(at));
  const documentIndices: bigint[] = [];
  for (let i = 0; i < documentCount; i++, at += 8) documentIndices.push(idx.readBigInt64LE(at));
  assert.equal(at, idx.length, 'nothing after the document indices');
  const size = dtypeCode === 8 ? 2 : dtypeCode === 4 ? 4 : assert.fail(`dtype code ${dtypeCode}`);
  const sequences = sequenceLengths.map((n, i) => {
    const p = Number(sequencePointers[i]);
    return Array.from({ length: n }, (_, k) => (size === 2 ? bin.readUInt16LE(p + k * 2) : bin.readInt32LE(p + k * 4)));
  });
  const last = sequenceCount === 0 ? 0 : Number(sequencePointers.at(-1)) + sequenceLengths.at(-1)! * size;
  assert.equal(last, bin.length, '.bin holds exactly the sequences');
  return { dtypeCode, sequenceLengths, sequencePointers, documentIndices, sequences };
}

/** Every row's input_ids, files in manifest order, rows in file order, as DuckDB reads them. */
async function parquetRows(out: string): Promise<number[][]> {
  const manifest = JSON.parse(await readFile(join(out, 'tokens', '_manifest.json'), 'utf8')) as TokenizeManifest;
  const con = await (await DuckDBInstance.create(':memory:')).connect();
  const rows: number[][] = [];
  for (const s of manifest.shards) {
    const r = (await con.runAndReadAll(`select input_ids from read_parquet('${join(out, 'tokens', s.file)}')`)).getRowObjectsJson();
    rows.push(...r.map((x) => x.input_ids as number[]));
  }
  return rows;
}

test('document rows: one sequence per row, int32 for Llama 3, every token equal to the Parquet shards', async () => {
  const shards = corpus(3, 25);
  const out = await tokenize(shards, {});
  const prefix = join(await tempDir('refinery-megatron-out-'), 'corpus_text_document');
  const result = await exportMegatron(join(out, 'tokens'), prefix);
  const ds = await readIndexedDataset(prefix);
  const rows = await parquetRows(out);

  assert.equal(ds.dtypeCode, 4, 'int32: Llama 3 has 128,256 ids');
  assert.equal(result.dtype, 'int32');
  assert.equal(rows.length, 75);
  assert.deepEqual(ds.sequences, rows);
  assert.deepEqual(ds.documentIndices, Array.from({ length: 76 }, (_, i) => BigInt(i)));
  assert.deepEqual(ds.sequencePointers[1], BigInt(rows[0]!.length * 4));
  const tokenizer = sharedLlama3Tokenizer();
  assert.deepEqual(ds.sequences, shards.flat().map((d) => Array.from(tokenizer.encodeDocument(d.text))));
  assert.equal(result.tokens, rows.reduce((n, r) => n + r.length, 0));
  assert.deepEqual((await readdir(join(prefix, '..'))).sort(), ['corpus_text_document.bin', 'corpus_text_document.idx'], 'no temporary files left');
});

test('packed rows: documents cut back at BOS, whole across rows and files', async () => {
  const shards = corpus(2, 30);
  // 16-token rows, 2 rows per row group, a new file after every row group: documents span rows and files
  const out = await tokenize(shards, { seq_len: 16, row_group_size: 128, shard_size: 1 });
  const manifest = JSON.parse(await readFile(join(out, 'tokens', '_manifest.json'), 'utf8')) as TokenizeManifest;
  assert.ok(manifest.shards.length > 4, `several files per input shard (${manifest.shards.length})`);
  const prefix = join(await tempDir('refinery-megatron-out-'), 'packed');
  const result = await exportMegatron(out, prefix); // a run's output folder works too
  const ds = await readIndexedDataset(prefix);

  const flat = (await parquetRows(out)).flat();
  const documents: number[][] = [];
  for (const t of flat) {
    if (t === 128_000) documents.push([]);
    documents.at(-1)!.push(t);
  }
  assert.equal(documents.length, 60);
  assert.deepEqual(ds.sequences, documents);
  const tokenizer = sharedLlama3Tokenizer();
  assert.deepEqual(ds.sequences, shards.flat().map((d) => Array.from(tokenizer.encodeDocument(d.text))));
  assert.deepEqual(ds.documentIndices, Array.from({ length: 61 }, (_, i) => BigInt(i)));
  assert.equal(result.layout, 'packed');
  assert.equal(result.documents, manifest.totals.docs);
});

test('refinery export megatron: the command writes both files; a folder without a manifest is refused', async () => {
  const out = await tokenize(corpus(1, 5), {});
  const prefix = join(await tempDir('refinery-megatron-cli-'), 'ds');
  const write = process.stdout.write;
  let printed = '';
  process.stdout.write = ((s: string) => ((printed += s), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await main(['node', 'refinery', 'export', 'megatron', out, '-o', prefix]);
  } finally {
    process.stdout.write = write;
  }
  assert.equal(code, 0);
  assert.match(printed, /5 documents, \d+ tokens \(documents shards\) as int32/);
  assert.equal((await readIndexedDataset(prefix)).sequences.length, 5);

  const empty = await tempDir('refinery-megatron-none-');
  await assert.rejects(exportMegatron(empty, join(empty, 'x')), /no _manifest\.json \(or manifest\.json\) here or in/);
});

test('export megatron: a prefix in a folder that does not exist yet creates the folder', async () => {
  const out = await tokenize(corpus(1, 3), {});
  const prefix = join(await tempDir('refinery-megatron-nested-'), 'datasets', 'web', 'ds');
  await exportMegatron(out, prefix);
  assert.equal((await readIndexedDataset(prefix)).sequences.length, 3);
});
