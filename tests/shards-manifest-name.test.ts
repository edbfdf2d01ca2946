/**
 * The tokens folder reads as a dataset by its path: it holds the Parquet shards and a manifest
 * whose name dataset readers skip (`_manifest.json`: pyarrow and Spark skip names that start with
 * `_` or `.`). A tokens folder with the manifest under its earlier name, `manifest.json`, still
 * reads: export, census and the manifest reader find either name.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { tempDir } from './temp-dirs.ts';
import type { Doc } from '../pipeline/doc.ts';
import type { GlobalStage } from '../pipeline/stage.ts';
import { tokenizeStage } from '../mixes/shards/tokenize.ts';
import type { TokenizeOptions } from '../mixes/shards/tokenize-options.ts';
import type { TokenizeManifest } from '../mixes/shards/manifest.ts';
import { exportMegatron, readTokensManifest } from '../mixes/shards/megatron-export.ts';
import { MANIFEST_FILE, OLD_MANIFEST_FILE } from '../mixes/shards/manifest-names.ts';
import { buildCensus } from '../mixes/census.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';

async function* iterate<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

/** A run folder whose tokens/ holds two shards' documents, as the tokenize stage writes it. */
async function tokenizedRun(): Promise<string> {
  const out = await tempDir('refinery-manifest-name-');
  const shards: Doc[][] = [0, 1].map((s) => Array.from({ length: 5 }, (_, i) => ({ id: `s${s}-d${i}`, text: `document ${i} of shard ${s}: the river carries data`, meta: { source: s ? 'books' : 'web', language: 'en' } })));
  const stage = (await tokenizeStage.create(tokenizeStage.options.parse({}) as TokenizeOptions, {
    baseDir: out, outputDir: out, workDir: join(out, 'work'), seed: 0, keyPath: 'stages[0]', files: folderFiles,
  })) as GlobalStage;
  for (let i = 0; i < shards.length; i++) await stage.map({ index: i, count: shards.length }, iterate(shards[i]!));
  await stage.reduce(0, shards.length);
  return out;
}

test('tokens/ holds Parquet shards and _manifest.json only: a dataset reader of the folder sees only the shards', async () => {
  const run = await tokenizedRun();
  const tokens = join(run, 'tokens');
  const names = (await readdir(tokens)).sort();
  assert.equal(names[0], MANIFEST_FILE);
  const others = names.slice(1);
  assert.ok(others.length > 0 && others.every((n) => n.endsWith('.parquet')), names.join(', '));
  // What pyarrow.dataset / Spark would list: every name not starting with "_" or ".", all of them Parquet.
  assert.deepEqual(names.filter((n) => !/^[_.]/.test(n)), others);
  const manifest = JSON.parse(await readFile(join(tokens, MANIFEST_FILE), 'utf8')) as TokenizeManifest;
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (await db.runAndReadAll(`select count(*)::INTEGER as docs, sum(num_tokens)::INTEGER as tokens from read_parquet('${tokens}/*.parquet')`)).getRowObjectsJson();
  assert.deepEqual(rows, [{ docs: manifest.totals.docs, tokens: manifest.totals.tokens }]);
});

test('a tokens folder with manifest.json (the earlier name) reads as one with _manifest.json: export megatron, census, the manifest reader', async () => {
  const run = await tokenizedRun();
  const tokens = join(run, 'tokens');
  const bytes = await readFile(join(tokens, MANIFEST_FILE));
  const newCensus = (await buildCensus([run])).census;
  const newRead = await readTokensManifest(run);
  await exportMegatron(run, join(run, 'new'));

  await rename(join(tokens, MANIFEST_FILE), join(tokens, OLD_MANIFEST_FILE));
  assert.ok((await readFile(join(tokens, OLD_MANIFEST_FILE))).equals(bytes));
  assert.deepEqual(await readTokensManifest(run), newRead);
  assert.deepEqual((await buildCensus([run])).census, newCensus);
  assert.deepEqual({ ...(await buildCensus([tokens])).census, inputs: [run] }, newCensus);
  await exportMegatron(run, join(run, 'old'));
  for (const ext of ['.bin', '.idx']) assert.ok((await readFile(join(run, `old${ext}`))).equals(await readFile(join(run, `new${ext}`))), ext);
});
