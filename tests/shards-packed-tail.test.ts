/**
 * Packed tokenization loses no document: each input shard's tail ends in a partial row, the
 * manifest balances (documents and tokens emitted = in the files), and a manifest that does not
 * balance fails the run.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { runStages } from '../pipeline/engine/run.ts';
import { AccountingError } from '../pipeline/stats.ts';
import { checkManifestBalance, type TokenizeManifest } from '../mixes/shards/manifest.ts';

registerBuiltinStages();
const root = await mkdtemp(join(tmpdir(), 'refinery-packed-tail-'));
after(() => rm(root, { recursive: true, force: true }));

test('--seq-len 8192 on the sample corpus: every document is in a row, the manifest balances', async () => {
  const output = join(root, 'packed');
  const result = await runStages({ inputs: ['examples/corpus'], output, stages: [{ stage: 'tokenize', options: { seq_len: 8192 } }], workers: 2, quiet: true });
  const manifest = JSON.parse(await readFile(join(output, 'tokens', '_manifest.json'), 'utf8')) as TokenizeManifest;
  const kept = result.stats.totals.kept;
  assert.ok(kept > 100);
  const con = await (await DuckDBInstance.create(':memory:')).connect();
  const [r] = (await con.runAndReadAll(`
    select count(distinct d)::int as docs, (select sum(num_tokens)::bigint from read_parquet('${output}/tokens/*.parquet')) as tokens,
      (select count(*)::int from read_parquet('${output}/tokens/*.parquet') where num_tokens < 8192) as partial
    from (select unnest(doc_ids) as d from read_parquet('${output}/tokens/*.parquet'))`)).getRowObjectsJson();
  assert.equal(r!.docs, kept, 'every kept document has a segment in some row');
  assert.equal(Number(r!.tokens), manifest.totals.tokens_in);
  assert.equal(manifest.totals.tokens, manifest.totals.tokens_in);
  assert.equal(manifest.totals.docs, kept);
  assert.equal(r!.partial, manifest.totals.partial_rows);
  assert.ok(manifest.totals.partial_rows >= 1 && manifest.totals.partial_rows <= manifest.shards.length);
});

test('a manifest that does not balance is an accounting error naming what is missing', () => {
  const totals = { rows: 3, docs: 10, tokens: 900, partial_rows: 1, bytes: 1, docs_in: 10, docs_out: 10, docs_errored: 0, tokens_in: 900, tokens_out: 900 };
  assert.doesNotThrow(() => checkManifestBalance({ totals }, 'm.json'));
  assert.throws(() => checkManifestBalance({ totals: { ...totals, docs: 9 } }, 'm.json'), (e: unknown) => e instanceof AccountingError && /m\.json.*\n.*documents: 10 emitted but 9 in the files/s.test(e.message));
  assert.throws(() => checkManifestBalance({ totals: { ...totals, tokens: 800 } }, 'm.json'), /tokens: 900 emitted but 800 in the files/);
});
