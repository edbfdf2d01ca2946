/**
 * A user's mistake is refused with a message that names it, never an "unexpected error" nor a
 * silent result: Megatron export onto an existing prefix, `select` on a stage or field that does
 * not exist, and bounds in `select where` that no value can pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import type { Doc } from '../pipeline/doc.ts';
import type { DocStage, GlobalStage } from '../pipeline/stage.ts';
import { tokenizeStage } from '../mixes/shards/tokenize.ts';
import type { TokenizeOptions } from '../mixes/shards/tokenize-options.ts';
import { exportMegatron } from '../mixes/shards/megatron-export.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { selectStage } from '../filters/select.ts';
import { tempDir } from './temp-dirs.ts';

const BIN = resolve('bin/refinery.mjs');

function refinery(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
}

async function* iterate<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

async function tokensFolder(): Promise<string> {
  const out = await tempDir('refinery-holes-megatron-');
  const stage = (await tokenizeStage.create(tokenizeStage.options.parse({}) as TokenizeOptions, {
    baseDir: out, outputDir: out, workDir: join(out, 'work'), seed: 0, keyPath: 'stages[0]', files: folderFiles,
  })) as GlobalStage;
  const docs: Doc[] = [{ id: 'a', text: 'the river runs', meta: {} }, { id: 'b', text: 'to the sea', meta: {} }];
  await stage.map({ index: 0, count: 1 }, iterate(docs));
  await stage.reduce(0, 1);
  return out;
}

test('export megatron onto a prefix that holds a dataset is refused without --force, and replaces it with', async () => {
  const tokens = await tokensFolder();
  const prefix = join(await tempDir('refinery-holes-megatron-out-'), 'ds');
  await writeFile(`${prefix}.bin`, 'a dataset a training run reads');
  const refused = refinery(['export', 'megatron', tokens, '-o', prefix]);
  assert.equal(refused.status, 1, refused.stderr);
  assert.equal(refused.stderr, `refinery: ${prefix}.bin already exists; give another -o prefix, or --force to replace the dataset at this prefix\n`);
  assert.equal(await readFile(`${prefix}.bin`, 'utf8'), 'a dataset a training run reads', 'left as it was');

  const forced = refinery(['export', 'megatron', tokens, '-o', prefix, '--force']);
  assert.equal(forced.status, 0, forced.stderr);
  assert.match(forced.stdout, /^2 documents, \d+ tokens/);

  await mkdir(join(prefix, '..', 'dir.idx'));
  await assert.rejects(exportMegatron(tokens, join(prefix, '..', 'dir'), { force: true }), /dir\.idx exists and is not a file; give another -o prefix/);
});

function parseSelect(options: unknown): string {
  const r = selectStage.options.safeParse(options);
  return r.success ? 'accepted' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
}

test('select refuses a would_drop stage that does not exist, and bounds no value can pass', () => {
  registerBuiltinStages();
  assert.equal(parseSelect({ would_drop: ['gopher-quality', 'fineweb', '*'] }), 'accepted');
  assert.equal(parseSelect({ would_drop: ['gopher_quality'] }), 'accepted', 'the meta key of a stage names it too');
  assert.match(parseSelect({ would_drop: ['gopher-qualty'] }), /^would_drop\.0: no stage is named "gopher-qualty"; give stage names \(.*gopher-quality.*\) or "\*"$/);
  assert.equal(parseSelect({ where: [{ field: 'x', min: 1, max: 1 }] }), 'accepted');
  assert.equal(parseSelect({ where: [{ field: 'x', min: 50, max: 10 }] }), 'where.0.max: min is above max: no value can pass; swap them');
  assert.equal(parseSelect({ where: [{ field: 'x', in: [] }] }), 'where.0.in: an empty list: no value can pass');
});

async function selectOver(options: unknown, docs: Doc[]): Promise<string[]> {
  const stage = (await selectStage.create(selectStage.options.parse(options), {
    baseDir: '.', outputDir: '.', workDir: '.', seed: 0, keyPath: 'stages[1]', files: folderFiles,
  })) as DocStage;
  const verdicts = await stage.process(docs);
  await stage.close?.();
  return verdicts.map((v) => (v.keep ? 'keep' : v.rule));
}

test('select where on a field no document has is refused at the end of the shard, naming it and the fields there are', async () => {
  const docs: Doc[] = [
    { id: 'a', text: 'a', meta: { gopher_quality: { words: 80 }, source: 'web' } },
    { id: 'b', text: 'b', meta: { gopher_quality: { words: 20 }, source: 'web' } },
  ];
  assert.deepEqual(await selectOver({ where: [{ field: 'gopher_quality.words', min: 50 }] }, docs), ['keep', 'gopher_quality.words_below_min']);
  await assert.rejects(
    selectOver({ where: [{ field: 'gopher_quality.wrods', min: 50 }] }, docs),
    (e: Error) => e.name === 'RefineryError' && e.message === 'stages[1].options.where[0].field: no document of this shard (2 read) has meta.gopher_quality.wrods; check the name (meta fields the documents have: gopher_quality, source), or set missing: drop to drop documents without it on purpose',
  );
  assert.deepEqual(await selectOver({ where: [{ field: 'quality', min: 0.5, missing: 'drop' }] }, docs), ['quality_missing', 'quality_missing'], 'missing: drop given on purpose');
});

test('a run with select on a misspelt field fails with the refusal, not an unexpected error', async () => {
  const dir = await tempDir('refinery-holes-select-');
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'a.jsonl'), '{"id":"a","text":"one","score":3}\n{"id":"b","text":"two","score":1}\n');
  await writeFile(join(dir, 'p.yaml'), 'inputs: ["data/*.jsonl"]\noutput: out\nworkers: 1\nstages:\n  - stage: select\n    options: { where: [{ field: scroe, min: 2 }] }\n');
  const r = refinery(['run', join(dir, 'p.yaml'), '-q', '--no-report']);
  assert.equal(r.status, 1, r.stderr);
  assert.doesNotMatch(r.stderr, /unexpected error/);
  assert.match(r.stderr, /stages\[0\]\.options\.where\[0\]\.field: no document of this shard \(2 read\) has meta\.scroe; check the name \(meta fields the documents have: score\)/);
});
