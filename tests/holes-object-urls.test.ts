/**
 * Object URLs are checked as a store or a proxy may read them (issue 24, item 3): `.`, `..` and
 * empty parts of a key are refused for outputs and inputs, naming the config key, so that two
 * spellings of one prefix cannot pass the ownership, overlap and lock checks as two outputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../pipeline/errors.ts';
import { prepareConfig } from '../pipeline/config.ts';
import { objectUrlProblem } from '../pipeline/io/storage.ts';

test('object URLs with ".", ".." or empty key parts are refused; plain ones and a final "/" are not', () => {
  for (const ok of ['s3://b', 's3://b/', 's3://b/p', 's3://b/p/', 's3://b/a/b/*.jsonl.gz', 's3://b/a/**/x.json', 's3://b/a..b/c.d']) assert.equal(objectUrlProblem(ok), null, ok);
  for (const bad of ['s3://', 's3:///p', 's3://b/./p', 's3://b/p/..', 's3://b/a/../b', 's3://b//p', 's3://b/p//', 's3://b/p/./']) assert.ok(objectUrlProblem(bad), bad);
});

test('an output or input URL that a store may normalise is a config error naming the key', async () => {
  const where = { file: 'p.yaml', baseDir: '/tmp' };
  await assert.rejects(prepareConfig({ inputs: ['/tmp/x.jsonl'], output: 's3://b/runs/../other', stages: [] }, where), (e: unknown) => e instanceof ConfigError && e.keyPath === 'output' && /"\.\."/.test(e.message));
  await assert.rejects(prepareConfig({ inputs: ['/tmp/x.jsonl'], output: 's3://b/runs//a', stages: [] }, where, { output: 's3://b/x//y' }), (e: unknown) => e instanceof ConfigError && e.keyPath === '--output');
  await assert.rejects(prepareConfig({ inputs: ['/tmp/x.jsonl', { path: 's3://b/in/./x/*.jsonl' }], output: 's3://b/out', stages: [] }, where), (e: unknown) => e instanceof ConfigError && e.keyPath === 'inputs[1]');
  const fine = await prepareConfig({ inputs: ['s3://b/in/*.jsonl'], output: 's3://b/out/', stages: [] }, where);
  assert.equal(fine.output, 's3://b/out');
});
