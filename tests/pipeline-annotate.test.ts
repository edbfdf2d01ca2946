import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runStages } from '../pipeline/engine/run.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { prepareConfig } from '../pipeline/config.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { readJsonlDir } from './output-files.ts';

registerBuiltinStages();

const INPUTS = ['generated-lowquality', 'multilingual', 'email'].map((n) => resolve(`examples/corpus/${n}.jsonl.gz`));
const FILTERS = ['gopher-repetition', 'gopher-quality', 'fineweb', 'dirty-words'];

type Rec = { id: string; text: string; meta: Record<string, unknown> };
const kept = async (out: string) => (await readJsonlDir<Rec>(join(out, 'kept'))).map((d) => `${d.id}\t${d.text}`);
const stats = async (out: string) => JSON.parse(await readFile(join(out, 'stats.json'), 'utf8')) as { stages: { name: string; rejected: number; reasons: Record<string, number> }[] };

test('annotate, then select: the same kept documents as filtering directly, and re-deciding needs no re-measuring', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'annotate-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  type Entry = string | { stage: string; mode?: 'annotate'; options?: Record<string, unknown> };
  // runStages takes what a pipeline file's `stages:` takes; its type does not list `mode`.
  const run = (name: string, stages: Entry[], inputs = INPUTS) =>
    runStages({ inputs, output: join(dir, name), stages: stages.map((e) => (typeof e === 'string' ? { stage: e } : e)) as Parameters<typeof runStages>[0]['stages'], quiet: true, workers: 1 });

  await run('direct', FILTERS);
  const direct = await stats(join(dir, 'direct'));
  assert.ok(direct.stages.every((s) => s.rejected > 0), 'every filter drops something in this corpus');

  // Tag only: every document is kept and measured by every stage.
  await run('tagged', FILTERS.map((stage): Entry => ({ stage, mode: 'annotate' })));
  const tagged = await readJsonlDir<Rec>(join(dir, 'tagged', 'kept'));
  assert.equal(tagged.length, 680);
  assert.deepEqual((await stats(join(dir, 'tagged'))).stages.map((s) => s.rejected), [0, 0, 0, 0]);
  const short = tagged.filter((d) => (d.meta.gopher_quality as { would_drop?: string }).would_drop === 'short_doc');
  assert.ok(short.length >= direct.stages.find((s) => s.name === 'gopher-quality')!.reasons.short_doc!, 'the tagging run measured at least the documents that filtering dropped');
  assert.ok(short.every((d) => typeof (d.meta.fineweb as { lines?: number }).lines === 'number'), 'later stages measured the tagged documents too');

  // Decide in the same run, and later over the tagged output: both keep what filtering kept.
  await run('same-run', [...FILTERS.map((stage): Entry => ({ stage, mode: 'annotate' })), { stage: 'select', options: { would_drop: ['*'] } }]);
  await run('decided', [{ stage: 'select', options: { would_drop: ['*'] } }], [join(dir, 'tagged', 'kept')]);
  const expected = await kept(join(dir, 'direct'));
  assert.ok(expected.length > 0);
  assert.deepEqual(await kept(join(dir, 'same-run')), expected);
  assert.deepEqual(await kept(join(dir, 'decided')), expected);
  const reasons = (await stats(join(dir, 'decided'))).stages[0]!.reasons;
  assert.ok(Object.keys(reasons).every((r) => /^(gopher_repetition|gopher_quality|fineweb|dirty_words)\.[a-z0-9_]+$/.test(r)), JSON.stringify(reasons));

  // One stage's tags alone: the same as running that filter alone.
  await run('fineweb-only', ['fineweb']);
  await run('fineweb-tags', [{ stage: 'select', options: { would_drop: ['fineweb'] } }], [join(dir, 'tagged', 'kept')]);
  assert.deepEqual(await kept(join(dir, 'fineweb-tags')), await kept(join(dir, 'fineweb-only')));
});

test('mode must be filter or annotate; select needs where or would_drop', async () => {
  const where = { file: 'p.yaml', baseDir: process.cwd() };
  await assert.rejects(prepareConfig({ inputs: 'x', output: 'o', stages: [{ stage: 'fineweb', mode: 'tag' }] }, where), (e: Error) => e instanceof ConfigError && /stages\[0\]\.mode/.test(e.message));
  await assert.rejects(prepareConfig({ inputs: 'x', output: 'o', stages: [{ stage: 'select', options: {} }] }, where), (e: Error) => e instanceof ConfigError && /where.*would_drop/.test(e.message));
  const ok = await prepareConfig({ inputs: 'x', output: 'o', stages: ['fineweb', { stage: 'fineweb', mode: 'filter' }, { stage: 'fineweb', mode: 'annotate' }] }, where);
  assert.deepEqual(ok.stages.map((s) => s.mode), [undefined, undefined, 'annotate'], 'the default leaves the resolved config as it was');
});
