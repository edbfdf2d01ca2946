/**
 * The tokenize stage through the real runner (worker threads), as `refinery tokenize` runs it:
 * the shards and manifest do not depend on the number of workers.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStages } from '../pipeline/engine/run.ts';
import { readDocs } from '../pipeline/io/read.ts';
import { parseByteSize } from '../mixes/shards/command.ts';
import type { TokenizeManifest } from '../mixes/shards/manifest.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';

registerBuiltinStages();

const root = await mkdtemp(join(tmpdir(), 'refinery-tokenize-run-'));
after(() => rm(root, { recursive: true, force: true }));

async function inputs(): Promise<string> {
  const dir = join(root, 'in');
  await mkdir(dir, { recursive: true });
  for (let f = 0; f < 3; f++) {
    const lines = Array.from({ length: 25 }, (_, i) =>
      JSON.stringify({ id: `f${f}-${i}`, text: `Document ${i} of file ${f}. ${'Tokens and more tokens. '.repeat(i + 1)}`, source: f === 2 ? 'code' : 'web', language: 'en' }),
    );
    await writeFile(join(dir, `part-${f}.jsonl`), lines.join('\n') + '\n');
  }
  return dir;
}

test('1 worker and 2 workers write the same shards and manifest; every document is kept with num_tokens', async () => {
  const input = await inputs();
  const manifests: string[] = [];
  for (const workers of [1, 2]) {
    const output = join(root, `out-${workers}`);
    const result = await runStages({ inputs: [input], output, stages: [{ stage: 'tokenize', options: { shuffle_seed: 5, shuffle_buckets: 2 } }], workers, quiet: true });
    assert.deepEqual(result.stats.totals, { in: 75, kept: 75, rejected: 0, errored: 0 });
    manifests.push(await readFile(join(output, 'tokens', '_manifest.json'), 'utf8'));
    const manifest = JSON.parse(manifests.at(-1)!) as TokenizeManifest;
    assert.equal(manifest.totals.rows, 75);
    assert.deepEqual((await readdir(join(output, 'tokens'))).filter((f) => f.endsWith('.parquet')).sort(), manifest.shards.map((s) => s.file));
    let tokens = 0;
    for (const f of await readdir(join(output, 'kept'))) {
      for await (const item of readDocs(join(output, 'kept', f))) {
        assert.equal(item.kind, 'doc');
        if (item.kind === 'doc') tokens += item.doc.meta.num_tokens as number;
      }
    }
    assert.equal(tokens, manifest.totals.tokens, 'meta.num_tokens of the kept documents add up to the manifest');
  }
  assert.equal(manifests[0], manifests[1]);
});

test('--shard-size accepts bytes with units', () => {
  assert.equal(parseByteSize('1000'), 1000);
  assert.equal(parseByteSize('1GB'), 1e9);
  assert.equal(parseByteSize('512MiB'), 512 * 2 ** 20);
  assert.equal(parseByteSize('1.5g'), 1.5e9);
  assert.throws(() => parseByteSize('lots'));
});
