import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadPipelineFile } from '../pipeline/config.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { builtinStageModules, registerBuiltinStages } from '../bin/builtin-stages.ts';

registerBuiltinStages();

async function refusal(options: string, stage: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-options-'));
  const file = join(dir, 'p.yaml');
  await writeFile(file, `inputs: [a.jsonl]\noutput: out\nstages:\n  - stage: ${stage}\n    options: ${options}\n`);
  try {
    await loadPipelineFile(file);
  } catch (e) {
    assert.ok(e instanceof ConfigError, String(e));
    return e.message.slice(file.length + 2);
  }
  return 'accepted';
}

test('every built-in stage refuses an unknown option key, naming its key path', async () => {
  const names = Object.keys(builtinStageModules);
  assert.ok(names.length >= 18, `${names.length} built-in stages`);
  for (const name of names) assert.equal(await refusal('{no_such_option: 1}', name), 'stages[0].options: unknown key "no_such_option"', name);
});

test('the dedup and quality stages refuse unknown keys inside nested options too', async () => {
  assert.equal(await refusal('{num_perm: 0, bands: 0}', 'minhash-dedup'), 'stages[0].options: unknown keys "num_perm", "bands"');
  assert.equal(await refusal('{verification: {methd: jaccard}}', 'minhash-dedup'), 'stages[0].options.verification: unknown key "methd"');
  assert.equal(await refusal('{hashed_ngram: {dims: 64}}', 'semantic-dedup'), 'stages[0].options.hashed_ngram: unknown key "dims"');
  assert.equal(await refusal('{normalization: {lower_case: false}}', 'exact-dedup'), 'stages[0].options.normalization: unknown key "lower_case"');
  assert.equal(await refusal('{model: m, treshold: 0.5}', 'quality'), 'stages[0].options: unknown key "treshold"');
});
