/**
 * The partitioned global shuffle: one spill file per input shard (a region per bucket), one reduce
 * task per bucket, the manifest in one finish task. Every row is kept exactly once with 1 and 64
 * buckets, and the same seed gives the same bytes with 1 and 2 workers.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tableFromIPC } from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import type { Doc } from '../pipeline/doc.ts';
import type { GlobalStage } from '../pipeline/stage.ts';
import { runStages } from '../pipeline/engine/run.ts';
import { tokenizeStage } from '../mixes/shards/tokenize.ts';
import type { TokenizeOptions } from '../mixes/shards/tokenize-options.ts';
import { decodeRows, encodeRow, shuffleKey, type KeyedRow } from '../mixes/shards/shuffle-spill.ts';
import type { TokenizeManifest } from '../mixes/shards/manifest.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';

registerBuiltinStages();

const root = await mkdtemp(join(tmpdir(), 'refinery-shuffle-'));
after(() => rm(root, { recursive: true, force: true }));

const SHARDS = 5;
const PER_SHARD = 40;

function corpus(): Doc[][] {
  return Array.from({ length: SHARDS }, (_, s) =>
    Array.from({ length: PER_SHARD }, (_, i) => ({
      id: `s${s}-d${i}`,
      text: `Document ${i} of shard ${s}. ${'Some words, über 東京 and code {}. '.repeat(1 + ((i * 7 + s) % 9))}`,
      meta: { source: s % 2 ? 'web' : 'code', ...(i % 3 ? { language: 'en', quality: i / 40 } : {}) },
    })),
  );
}

async function* iterate<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

/** Every row of the shuffled files, in file name order then row order: [id, tokens joined]. */
async function rowsOf(tokensDir: string): Promise<[string, string][]> {
  const out: [string, string][] = [];
  for (const f of (await readdir(tokensDir)).filter((f) => f.endsWith('.parquet')).sort()) {
    const table = tableFromIPC(parquet.readParquet(await readFile(join(tokensDir, f))).intoIPCStream());
    const ids = table.getChild('input_ids')!;
    for (let i = 0; i < table.numRows; i++) out.push([table.get(i)!.id as string, Array.from((ids.get(i) as { toArray(): Int32Array }).toArray()).join(',')]);
  }
  return out;
}

test('a spill row encodes and decodes to the same row, nulls and non-ASCII included', () => {
  const { key } = shuffleKey(3, 1, 2, 0);
  const rows = [
    { id: 'ü-1', tokens: Int32Array.from([128000, 5, -1, 128001]), source: null, language: 'de', category: '', quality: null, quality_band: 'high' },
    { id: 'x', tokens: new Int32Array(0), source: 'web', language: null, category: null, quality: 0.25, quality_band: null },
  ];
  const into: KeyedRow[] = [];
  decodeRows(Buffer.concat(rows.map((r) => encodeRow(key, r))), into);
  assert.deepEqual(into.map((k) => k.row), rows);
  assert.equal(into[0]!.key, key.toString('hex'));
});

for (const buckets of [1, 64]) {
  test(`${buckets} bucket(s): one spill file per input shard, one reduce task per bucket, every row exactly once`, async () => {
    const shards = corpus();
    const out = join(root, `stage-${buckets}`);
    const options = tokenizeStage.options.parse({ shuffle_seed: 11, shuffle_buckets: buckets }) as TokenizeOptions;
    const make = async () => (await tokenizeStage.create(options, { baseDir: out, outputDir: out, workDir: join(out, 'work'), seed: 0, keyPath: 'stages[0]', files: folderFiles })) as GlobalStage;
    const stage = await make();
    assert.equal(stage.partitions, buckets);
    assert.equal(typeof stage.finish, 'function');
    // map in reverse order, each task on a fresh stage object: as separate processes would
    for (let i = SHARDS - 1; i >= 0; i--) await (await make()).map({ index: i, count: SHARDS }, iterate(shards[i]!));
    assert.deepEqual((await readdir(join(out, 'work', 'spill'))).sort(), Array.from({ length: SHARDS }, (_, i) => `shard-0000${i}.bin`));
    for (let b = buckets - 1; b >= 0; b--) await (await make()).reduce(b, SHARDS);
    await (await make()).finish!(SHARDS);

    const rows = await rowsOf(join(out, 'tokens'));
    const ids = rows.map(([id]) => id);
    assert.equal(ids.length, SHARDS * PER_SHARD);
    assert.deepEqual([...ids].sort(), shards.flat().map((d) => d.id).sort(), 'every document exactly once');
    assert.notDeepEqual(ids, shards.flat().map((d) => d.id), 'in another order');
    const manifest = JSON.parse(await readFile(join(out, 'tokens', '_manifest.json'), 'utf8')) as TokenizeManifest;
    assert.equal(manifest.totals.docs, SHARDS * PER_SHARD);
    assert.equal(manifest.totals.tokens, manifest.totals.tokens_out);
    assert.deepEqual(manifest.shuffle, { seed: 11, buckets });
    const files = manifest.shards.map((s) => s.file);
    assert.deepEqual(files, [...files].sort());
    if (buckets === 64) assert.ok(new Set(files.map((f) => f.slice(0, 'shuffled-00000'.length))).size > 40, 'rows spread over many buckets');
  });
}

test('the same seed gives the same bytes with 1 and 2 workers (64 buckets, 64 reduce tasks)', async () => {
  const input = join(root, 'in');
  await mkdir(input, { recursive: true });
  for (const [s, docs] of corpus().entries()) await writeFile(join(input, `part-${s}.jsonl`), docs.map((d) => JSON.stringify({ id: d.id, text: d.text, ...d.meta })).join('\n') + '\n');
  const digests: string[] = [];
  for (const workers of [1, 2]) {
    const output = join(root, `run-${workers}`);
    const result = await runStages({ inputs: [input], output, stages: [{ stage: 'tokenize', options: { shuffle_seed: 4, shuffle_buckets: 64 } }], workers, quiet: true });
    assert.deepEqual(result.stats.totals, { in: SHARDS * PER_SHARD, kept: SHARDS * PER_SHARD, rejected: 0, errored: 0 });
    const stats = JSON.parse(await readFile(join(output, 'stats.json'), 'utf8')) as { phases: { phase: string; tasks: number }[] };
    assert.equal(stats.phases.find((p) => p.phase === 'reduce')!.tasks, 64);
    assert.equal(stats.phases.find((p) => p.phase === 'finish')!.tasks, 1);
    const h = createHash('sha256');
    for (const f of (await readdir(join(output, 'tokens'))).sort()) h.update(f).update(await readFile(join(output, 'tokens', f)));
    digests.push(h.digest('hex'));
    const rows = await rowsOf(join(output, 'tokens'));
    assert.equal(new Set(rows.map(([id]) => id)).size, SHARDS * PER_SHARD);
  }
  assert.equal(digests[0], digests[1]);
});
