import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMPAT_FILTERS, loadFixture, verdictOf } from '../bench/compat.bench.ts';
import { spacySentenceCount, spacyTokens, spacyWords } from '../filters/compat/spacy-english.ts';
import { prepareConfig } from '../pipeline/config.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';

registerBuiltinStages();

test('compat: datatrove gives the verdicts datatrove 0.10.0 recorded on every fixture document, for each filter', async () => {
  const docs = loadFixture();
  assert.ok(docs.length >= 30);
  let defaultDisagrees = 0;
  for (const [name, def] of Object.entries(COMPAT_FILTERS)) {
    for (const d of docs) {
      const want = d.verdicts[name];
      assert.ok(want === 0 || want === 1, `${d.id} has a recorded ${name} verdict`);
      assert.equal((await verdictOf(def, d.text, true)).v, want, `${name} on ${d.id}`);
      if ((await verdictOf(def, d.text, false)).v !== want) defaultDisagrees++;
    }
  }
  // The fixture separates the modes: Refinery's own rules decide otherwise on some of these documents.
  assert.ok(defaultDisagrees >= 10, `default mode disagrees on ${defaultDisagrees}`);
});

test("spaCy English tokens: punctuation marks are words, contractions split, abbreviations and URLs whole", () => {
  assert.deepEqual(spacyTokens("Hello, world! I don't know."), ['Hello', ',', 'world', '!', 'I', 'do', "n't", 'know', '.']);
  assert.deepEqual(spacyTokens('See https://example.com/a?b=1 (e.g. Mr. Smith) for $100.'), ['See', 'https://example.com/a?b=1', '(', 'e.g.', 'Mr.', 'Smith', ')', 'for', '$', '100', '.']);
  assert.deepEqual(spacyTokens('well-known 5km U.S. cannot'), ['well', '-', 'known', '5', 'km', 'U.S.', 'can', 'not']);
  // a white-space run keeps all but its first space as a token; words drop such tokens
  assert.deepEqual(spacyTokens('a  b\nc'), ['a', ' ', 'b', '\n', 'c']);
  assert.deepEqual(spacyWords('a  b\nc'), ['a', 'b', 'c']);
});

test('spaCy sentencizer: a sentence starts after . ! ? at the first token that is not punctuation', () => {
  assert.equal(spacySentenceCount('One. Two! Three? "Four." Five'), 5);
  assert.equal(spacySentenceCount('Wait... Mr. Smith went to the U.S. yesterday.'), 1);
  assert.equal(spacySentenceCount(''), 1);
});

test('compat is a run-level mode that the stages define: compat: datatrove sets rules: datatrove on each filter that has it', async () => {
  const where = { file: 'p.yaml', baseDir: process.cwd() };
  const c = await prepareConfig({ inputs: 'x', output: 'o', compat: 'datatrove', stages: ['c4', { stage: 'fineweb', options: { line_punct_thr: 0.2 } }, 'url-blocklist'] }, where);
  assert.equal(c.compat, 'datatrove');
  assert.equal((c.stages[0]!.options as { rules?: string }).rules, 'datatrove');
  assert.deepEqual([(c.stages[1]!.options as { rules?: string }).rules, (c.stages[1]!.options as { line_punct_thr: number }).line_punct_thr], ['datatrove', 0.2]);
  assert.equal('rules' in (c.stages[2]!.options as object), false, 'a stage without the mode is left as it is');
  const plain = await prepareConfig({ inputs: 'x', output: 'o', stages: ['c4'] }, where);
  assert.equal(plain.compat, undefined);
  assert.equal('rules' in (plain.stages[0]!.options as object), false, "without compat the options are the defaults (no rules key), so a run's identity is what it was");
  await assert.rejects(prepareConfig({ inputs: 'x', output: 'o', compat: 'dolma', stages: ['c4'] }, where), (e: Error) => e instanceof ConfigError && /compat/.test(e.message) && /c4 \(datatrove\)/.test(e.message));
  await assert.rejects(prepareConfig({ inputs: 'x', output: 'o', compat: 'datatrove', stages: ['url-blocklist'] }, where), (e: Error) => e instanceof ConfigError && /no stage of this pipeline has a "datatrove" mode/.test(e.message));
});
