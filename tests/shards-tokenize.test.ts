/**
 * The tokenize stage end to end on generated documents: map per input shard, one reduce, appliers;
 * Parquet read back with DuckDB, manifest totals, packing, shuffle, plans and determinism.
 */
import { test } from 'node:test';
import { tempDir } from './temp-dirs.ts';
import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import type { Doc } from '../pipeline/doc.ts';
import type { GlobalStage } from '../pipeline/stage.ts';
import { sharedLlama3Tokenizer } from '../pipeline/tokenizer/llama3-tokenizer.ts';
import { tokenizeStage } from '../mixes/shards/tokenize.ts';
import type { TokenizeOptions } from '../mixes/shards/tokenize-options.ts';
import type { TokenizeManifest } from '../mixes/shards/manifest.ts';
import { bucketId, bucketKeyOfDoc } from '../mixes/bucket.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';

const WORDS = ['the', 'river', 'data', 'token', 'Llama', 'shard', 'zstd', 'ünïcode', '東京', 'код', '42', '3.14', '🙂', '\n', '    ', 'def', '{', '}'];

/** Deterministic generated corpus: `shards` input shards of `perShard` documents. */
function corpus(shards: number, perShard: number): Doc[][] {
  let state = 12345;
  const rnd = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 2 ** 32);
  return Array.from({ length: shards }, (_, s) =>
    Array.from({ length: perShard }, (_, i) => {
      const n = 5 + Math.floor(rnd() * 120);
      const text = Array.from({ length: n }, () => WORDS[Math.floor(rnd() * WORDS.length)]).join(' ');
      const meta: Record<string, unknown> = { source: i % 3 === 0 ? 'web' : 'code', language: i % 4 === 0 ? 'de' : 'en' };
      if (i % 5 !== 0) meta.category = i % 2 ? 'general' : 'code';
      if (i % 2 === 0) meta.quality = i / 100;
      if (i % 2 === 0) meta.quality_band = 'high';
      return { id: `s${s}-d${i}`, text, meta };
    }),
  );
}


async function* iterate<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

/** Runs the stage the way the runner does; returns the output folder and the annotated docs. */
async function runTokenize(shards: Doc[][], options: Partial<TokenizeOptions>, seed = 1): Promise<{ out: string; docs: Doc[][] }> {
  const out = await tempDir('refinery-tokenize-');
  const parsed = tokenizeStage.options.parse(options) as TokenizeOptions;
  const stage = (await tokenizeStage.create(parsed, { baseDir: out, outputDir: out, workDir: join(out, 'work', 'tokenize'), seed, keyPath: 'stages[0]', files: folderFiles })) as GlobalStage;
  assert.equal(stage.kind, 'global');
  // map in reverse order: the result must not depend on the order tasks run in
  for (let i = shards.length - 1; i >= 0; i--) await stage.map({ index: i, count: shards.length }, iterate(shards[i]!));
  for (let p = 0; p < stage.partitions; p++) await stage.reduce(p, shards.length);
  await stage.finish?.(shards.length);
  const docs: Doc[][] = [];
  for (let i = 0; i < shards.length; i++) {
    const applier = await stage.applier({ index: i, count: shards.length });
    const copies = shards[i]!.map((d) => ({ ...d, meta: { ...d.meta } }));
    const verdicts = await applier.process(copies);
    assert.ok(verdicts.every((v) => v.keep));
    docs.push(copies);
  }
  return { out, docs };
}

async function manifestOf(out: string): Promise<TokenizeManifest> {
  return JSON.parse(await readFile(join(out, 'tokens', '_manifest.json'), 'utf8')) as TokenizeManifest;
}

async function duck(): Promise<DuckDBConnection> {
  return (await DuckDBInstance.create(':memory:')).connect();
}

async function rows(con: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await con.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

const ALL = (out: string) => `read_parquet('${join(out, 'tokens', '*.parquet')}')`;

test('document rows: DuckDB reads the manifest counts and the exact ids back', async () => {
  const shards = corpus(3, 40);
  const { out, docs } = await runTokenize(shards, {});
  const manifest = await manifestOf(out);
  const tokenizer = sharedLlama3Tokenizer();
  const expected = new Map(shards.flat().map((d) => [d.id, Array.from(tokenizer.encodeDocument(d.text))]));
  const expectedTokens = [...expected.values()].reduce((n, ids) => n + ids.length, 0);

  assert.deepEqual((await readdir(join(out, 'tokens'))).sort(), ['_manifest.json', 'shard-00000-00000.parquet', 'shard-00001-00000.parquet', 'shard-00002-00000.parquet']);
  assert.equal(manifest.totals.rows, 120);
  assert.equal(manifest.totals.tokens, expectedTokens);
  assert.equal(manifest.tokenizer.vocab_size, 128_256);
  assert.match(manifest.tokenizer.vocabulary_sha256, /^[0-9a-f]{64}$/);

  const con = await duck();
  const [count] = await rows(con, `select count(*)::int as n, sum(num_tokens)::bigint as t, sum(len(input_ids))::bigint as l from ${ALL(out)}`);
  assert.deepEqual(count, { n: 120, t: String(expectedTokens), l: String(expectedTokens) });
  for (const shard of manifest.shards) {
    const [r] = await rows(con, `select count(*)::int as n, sum(num_tokens)::int as t from read_parquet('${join(out, 'tokens', shard.file)}')`);
    assert.deepEqual(r, { n: shard.rows, t: shard.tokens }, shard.file);
    const bytes = await readFile(join(out, 'tokens', shard.file));
    assert.equal(bytes.length, shard.bytes);
  }
  const schema = await rows(con, `select name, type, logical_type from parquet_schema('${join(out, 'tokens', manifest.shards[0]!.file)}') where name in ('item', 'input_ids', 'id', 'num_tokens')`);
  assert.deepEqual(schema.map((r) => r.name), ['id', 'input_ids', 'item', 'num_tokens']);
  assert.equal(schema.find((r) => r.name === 'item')!.type, 'INT32');
  const [types] = await rows(con, `select typeof(input_ids) as ids, typeof(quality) as q from ${ALL(out)} limit 1`);
  assert.deepEqual(types, { ids: 'INTEGER[]', q: 'DOUBLE' });
  const [compression] = await rows(con, `select distinct compression from parquet_metadata('${join(out, 'tokens', manifest.shards[0]!.file)}')`);
  assert.equal(compression!.compression, 'ZSTD');

  for (const id of ['s0-d0', 's1-d17', 's2-d39']) {
    const [r] = await rows(con, `select input_ids, source, language, category, quality from ${ALL(out)} where id = '${id}'`);
    assert.deepEqual(r!.input_ids, expected.get(id), id);
    const doc = shards.flat().find((d) => d.id === id)!;
    assert.equal(r!.source, doc.meta.source);
    assert.equal(r!.category, doc.meta.category ?? null);
    assert.equal(r!.quality, doc.meta.quality ?? null);
  }
  // input order is kept within a shard
  const order = await rows(con, `select id from read_parquet('${join(out, 'tokens', 'shard-00001-00000.parquet')}')`);
  assert.deepEqual(order.map((r) => r.id), shards[1]!.map((d) => d.id));

  // the applier keeps every document and records its token count
  assert.deepEqual(docs.flat().map((d) => d.meta.num_tokens), shards.flat().map((d) => expected.get(d.id)!.length));

  // buckets for the mix census: missing meta is "unknown"; totals per source add up
  const bucketTokens = new Map<string, number>();
  for (const d of shards.flat()) {
    const k = bucketId(bucketKeyOfDoc(d));
    bucketTokens.set(k, (bucketTokens.get(k) ?? 0) + expected.get(d.id)!.length);
  }
  assert.equal(manifest.buckets.length, bucketTokens.size);
  for (const b of manifest.buckets) assert.equal(b.tokens, bucketTokens.get(bucketId(b)));
  assert.ok(manifest.buckets.some((b) => b.category === 'unknown'));
  assert.equal(manifest.by_source.web!.tokens + manifest.by_source.code!.tokens, expectedTokens);
});

test('the same input and options give byte-identical shards and manifest', async () => {
  const shards = corpus(2, 30);
  const a = await runTokenize(shards, { shuffle_seed: 7, shuffle_buckets: 3 });
  const b = await runTokenize(shards, { shuffle_seed: 7, shuffle_buckets: 3 });
  const c = await runTokenize(shards, {});
  const d = await runTokenize(shards, {});
  assert.equal(await readFile(join(c.out, 'tokens', '_manifest.json'), 'utf8'), await readFile(join(d.out, 'tokens', '_manifest.json'), 'utf8'));
  const ma = await manifestOf(a.out);
  assert.equal(await readFile(join(a.out, 'tokens', '_manifest.json'), 'utf8'), await readFile(join(b.out, 'tokens', '_manifest.json'), 'utf8'));
  for (const s of ma.shards) assert.ok((await readFile(join(a.out, 'tokens', s.file))).equals(await readFile(join(b.out, 'tokens', s.file))), s.file);
});

test('small shard size: several zero-padded files per input shard, counts still add up', async () => {
  const shards = corpus(1, 200);
  const { out } = await runTokenize(shards, { shard_size: 8_000, row_group_size: 4_000 });
  const manifest = await manifestOf(out);
  assert.ok(manifest.shards.length >= 3, `${manifest.shards.length} files`);
  assert.deepEqual(manifest.shards.map((s) => s.file), manifest.shards.map((_, i) => `shard-00000-${String(i).padStart(5, '0')}.parquet`));
  const con = await duck();
  const [r] = await rows(con, `select count(*)::int as n, sum(num_tokens)::int as t from ${ALL(out)}`);
  assert.deepEqual(r, { n: manifest.totals.rows, t: manifest.totals.tokens });
  assert.equal(manifest.totals.rows, 200);
  const groups = await rows(con, `select count(distinct row_group_id)::int as g from parquet_metadata('${join(out, 'tokens', manifest.shards[0]!.file)}')`);
  assert.ok((groups[0]!.g as number) >= 2, 'row groups of about row_group_size');
});

test('packed rows: seq_len tokens each, document starts in offsets, the unfilled tail in a last partial row', async () => {
  const shards = corpus(2, 50);
  const seqLen = 128;
  const { out } = await runTokenize(shards, { seq_len: seqLen });
  const manifest = await manifestOf(out);
  const tokenizer = sharedLlama3Tokenizer();
  const con = await duck();
  for (let s = 0; s < 2; s++) {
    const stream = shards[s]!.flatMap((d) => Array.from(tokenizer.encodeDocument(d.text)));
    const packed = await rows(con, `select input_ids, offsets, doc_ids, num_tokens from read_parquet('${join(out, 'tokens', `shard-0000${s}-00000.parquet`)}')`);
    assert.equal(packed.length, Math.ceil(stream.length / seqLen));
    assert.deepEqual(packed.flatMap((r) => r.input_ids as number[]), stream, 'every token of the shard, the tail included');
    assert.equal((packed.at(-1)!.input_ids as number[]).length, stream.length % seqLen || seqLen);
    assert.deepEqual(new Set(packed.flatMap((r) => r.doc_ids as string[])), new Set(shards[s]!.map((d) => d.id)), 'every document is in a row');
    for (const r of packed) {
      const ids = r.input_ids as number[];
      const offsets = r.offsets as number[];
      if (r !== packed.at(-1)) assert.equal(ids.length, seqLen);
      assert.equal(r.num_tokens, ids.length);
      assert.equal(offsets[0], 0);
      assert.equal((r.doc_ids as string[]).length, offsets.length);
      // every BOS inside the row starts a segment
      ids.forEach((id, i) => { if (id === 128_000) assert.ok(offsets.includes(i), `BOS at ${i} is a document start`); });
    }
  }
  assert.equal(manifest.format.layout, 'packed');
  assert.equal(manifest.totals.partial_rows, 2);
  assert.equal(manifest.totals.tokens, manifest.totals.tokens_in);
  assert.equal(manifest.totals.docs, 100);
});

test('global shuffle: same documents, another order, decided by the seed', async () => {
  const shards = corpus(3, 30);
  const con = await duck();
  const idsOf = async (out: string) => (await rows(con, `select id from ${ALL(out)} order by filename, file_row_number`.replace(ALL(out), `read_parquet('${join(out, 'tokens', '*.parquet')}', filename = true, file_row_number = true)`))).map((r) => r.id as string);
  const plain = shards.flat().map((d) => d.id);
  const a = await idsOf((await runTokenize(shards, { shuffle_seed: 1, shuffle_buckets: 4 })).out);
  const b = await idsOf((await runTokenize(shards, { shuffle_seed: 2, shuffle_buckets: 4 })).out);
  assert.deepEqual([...a].sort(), [...plain].sort());
  assert.notDeepEqual(a, plain);
  assert.notDeepEqual(a, b);
  const { out } = await runTokenize(shards, { shuffle_seed: 1, shuffle_buckets: 4 });
  assert.deepEqual(await idsOf(out), a);
  const manifest = await manifestOf(out);
  assert.ok(manifest.shards.every((s) => /^shuffled-\d{5}-\d{5}\.parquet$/.test(s.file)));
  assert.equal(manifest.totals.rows, 90);
});

test('a mix plan repeats and samples documents; the manifest records what was emitted', async () => {
  const shards = corpus(2, 60);
  const dir = await tempDir('refinery-plan-');
  const rates = new Map<string, number>();
  for (const d of shards.flat()) {
    const key = bucketKeyOfDoc(d);
    rates.set(bucketId(key), key.source === 'web' ? 2 : 0.5);
  }
  const planPath = join(dir, 'plan.json');
  await writeFile(planPath, JSON.stringify({ buckets: [...rates].map(([id, rate]) => ({ id, rate })) }));
  const { out } = await runTokenize(shards, { plan: planPath }, 3);
  const manifest = await manifestOf(out);
  const web = shards.flat().filter((d) => d.meta.source === 'web');
  const con = await duck();
  const [r] = await rows(con, `select count(*)::int as n from ${ALL(out)} where source = 'web'`);
  assert.equal(r!.n, 2 * web.length);
  assert.equal(manifest.by_source.web!.docs, 2 * web.length);
  const code = manifest.by_source.code!.docs;
  const codeIn = shards.flat().length - web.length;
  assert.ok(code > codeIn * 0.2 && code < codeIn * 0.8, `${code} of ${codeIn} code documents at rate 0.5`);
  assert.equal(manifest.totals.docs_in, 120);
  assert.equal(manifest.totals.docs_out, manifest.totals.rows);
  assert.equal(manifest.plan!.seed, 3);
});

test('a document whose bucket the plan lacks is in no shard, and its applier call fails (error output)', async () => {
  const shards = corpus(1, 20);
  const dir = await tempDir('refinery-plan-');
  const buckets = [...new Set(shards[0]!.map((d) => bucketId(bucketKeyOfDoc(d))))];
  const missing = buckets[0]!;
  const planPath = join(dir, 'plan.json');
  await writeFile(planPath, JSON.stringify({ buckets: buckets.slice(1).map((id) => ({ id, rate: 1 })) }));
  const out = await tempDir('refinery-tokenize-');
  const parsed = tokenizeStage.options.parse({ plan: planPath }) as TokenizeOptions;
  const stage = (await tokenizeStage.create(parsed, { baseDir: out, outputDir: out, workDir: join(out, 'work'), seed: 1, keyPath: 'stages[0]', files: folderFiles })) as GlobalStage;
  await stage.map({ index: 0, count: 1 }, iterate(shards[0]!));
  await stage.reduce(0, 1);
  const manifest = await manifestOf(out);
  const lacking = shards[0]!.filter((d) => bucketId(bucketKeyOfDoc(d)) === missing);
  assert.ok(lacking.length > 0);
  assert.equal(manifest.totals.docs_errored, lacking.length);
  assert.equal(manifest.totals.rows, 20 - lacking.length);
  const applier = await stage.applier({ index: 0, count: 1 });
  for (const d of shards[0]!) {
    const doc = { ...d, meta: { ...d.meta } };
    if (lacking.includes(d)) await assert.rejects(async () => applier.process([doc]), /plan has no rate/);
    else assert.deepEqual(await applier.process([doc]), [{ keep: true }]);
  }
});
