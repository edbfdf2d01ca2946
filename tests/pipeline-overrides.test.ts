import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareConfig } from '../pipeline/config.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { matchesWhen } from '../pipeline/engine/stage-overrides.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { readJsonlDir } from './output-files.ts';

registerBuiltinStages();

type Rec = { id: string; text: string; meta: Record<string, unknown> };
const LANGS = ['en', 'de', 'fr'];

test('a gopher-quality override for one language changes the verdicts of that language\'s documents only', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'overrides-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // 90 documents, languages interleaved so that every batch mixes them; 20 to 60 words each.
  const sentence = 'The cat and the dog went to the park with a ball that they liked to play with every day.';
  const lines = Array.from({ length: 90 }, (_, i) => JSON.stringify({ id: `d${i}`, text: `${sentence} `.repeat(1 + (Math.floor(i / 3) % 3)).trim() + ` Number ${i}.`, language: LANGS[i % 3] }));
  const input = join(dir, 'in.jsonl');
  await writeFile(input, `${lines.join('\n')}\n`);
  const run = async (name: string, entry: Record<string, unknown>) => {
    const config = await prepareConfig({ inputs: [input], output: join(dir, name), stages: [entry], workers: 1 }, { file: 'test', baseDir: dir });
    await runPipeline(config, { quiet: true });
    const verdicts = new Map<string, string>();
    for (const d of await readJsonlDir<Rec>(join(dir, name, 'kept'))) verdicts.set(d.id, 'keep');
    for (const d of await readJsonlDir<Rec>(join(dir, name, 'rejected'))) verdicts.set(d.id, String(d.meta.reject_reason));
    return verdicts;
  };
  const base = await run('base', { stage: 'gopher-quality', options: { min_doc_words: 50 } });
  const over = await run('over', { stage: 'gopher-quality', options: { min_doc_words: 50 }, overrides: [{ when: { language: 'de' }, options: { min_doc_words: 10 } }] });
  assert.equal(base.size, 90);
  assert.equal(over.size, 90);
  const changed = [...base.keys()].filter((id) => base.get(id) !== over.get(id));
  const de = (id: string) => Number(id.slice(1)) % 3 === 1;
  assert.ok(changed.length > 0, 'the override changed something');
  assert.ok(changed.every(de), `only German documents change: ${changed.join(', ')}`);
  // The German documents of 20 and 40 words were too short at 50 and are long enough at 10.
  assert.deepEqual(changed.map((id) => [base.get(id), over.get(id)]).filter(([b, o]) => b !== 'gopher-quality:short_doc' || o !== 'keep'), []);
  assert.equal(changed.length, 20);
  assert.ok([...over.entries()].every(([id, v]) => !de(id) || v === 'keep'), 'every German document is kept');

  // A list of values matches any of them; an override with the base's options is the base stage.
  const listed = await run('listed', { stage: 'gopher-quality', options: { min_doc_words: 50 }, overrides: [{ when: { language: ['de', 'fr'] }, options: { min_doc_words: 10 } }, { when: { language: 'en' }, options: { min_doc_words: 50 } }] });
  const expected = [...base.keys()].filter((id) => Number(id.slice(1)) % 3 !== 0 || base.get(id) === 'keep').sort();
  assert.deepEqual([...listed.entries()].filter(([, v]) => v === 'keep').map(([id]) => id).sort(), expected);
});

test('overrides: options checked by the stage\'s schema under their key; refused on global stages', async () => {
  const where = { file: 'p.yaml', baseDir: process.cwd() };
  const entry = (overrides: unknown, stage = 'gopher-quality') => prepareConfig({ inputs: 'x', output: 'o', stages: ['c4', { stage, overrides }] }, where);
  await assert.rejects(entry([{ when: { language: 'de' }, options: { min_doc_words: 'ten' } }]), (e: Error) => e instanceof ConfigError && /stages\[1\]\.overrides\[0\]\.options\.min_doc_words/.test(e.message));
  await assert.rejects(entry([{ when: { language: 'de' }, options: {} }, { when: { language: 'fr' }, options: { min_doc_wordz: 3 } }]), (e: Error) => e instanceof ConfigError && /stages\[1\]\.overrides\[1\]\.options: unknown key "min_doc_wordz"/.test(e.message));
  await assert.rejects(entry([{ when: { language: 'de' }, options: {} }], 'exact-dedup'), (e: Error) => e instanceof ConfigError && /stages\[1\]\.overrides: exact-dedup is a global stage/.test(e.message));
  await assert.rejects(entry([{ when: {}, options: {} }]), (e: Error) => e instanceof ConfigError && /stages\[1\]\.overrides\[0\]\.when/.test(e.message));
  const ok = await entry([{ when: { language: 'de' }, options: { min_doc_words: 10 } }]);
  assert.deepEqual((ok.stages[1]!.overrides![0]!.options as { min_doc_words: number }).min_doc_words, 10);
  assert.equal((ok.stages[1]!.overrides![0]!.options as { max_doc_words: number }).max_doc_words, (ok.stages[1]!.options as { max_doc_words: number }).max_doc_words, 'the rest are the base options');
});

test('when: every field must match, a value or one of a list, by key or dotted path', () => {
  const meta = { language: 'de', source: 'web', langid: { language: 'de' } };
  assert.ok(matchesWhen(meta, { language: 'de' }));
  assert.ok(matchesWhen(meta, { language: ['fr', 'de'], source: 'web' }));
  assert.ok(!matchesWhen(meta, { language: 'de', source: 'books' }));
  assert.ok(matchesWhen(meta, { 'langid.language': 'de' }));
  assert.ok(!matchesWhen(meta, { missing: 'x' }));
});
