import { test } from 'node:test';
import assert from 'node:assert/strict';
import { predictLanguages, normaliseForLid } from '../filters/langid/lid-model.ts';
import { doc, docStage, fixtureDocs } from './filters-helpers.ts';

const verdictOf = (v: { keep: boolean; rule?: string }) => (v.keep ? 'kept' : v.rule);

test('langid: lid.176 names the language of the UDHR Article 1 in 17 languages', async () => {
  const docs = fixtureDocs('udhr-article1.jsonl');
  const stage = await docStage('langid');
  await stage.process(docs);
  const wrong = docs.filter((d) => d.meta.language !== d.meta.lang).map((d) => `${d.id}→${String(d.meta.language)}`);
  assert.deepEqual(wrong, []);
  for (const d of docs) assert.ok((d.meta.language_score as number) > 0.5, `${d.id} ${String(d.meta.language_score)}`);
});

test('langid: the score threshold (0.65) and the allowed language set', async () => {
  const text = 'All human beings are born free and equal in dignity and rights.';
  const [best] = await predictLanguages(text);
  assert.equal(best!.language, 'en');
  const low = await docStage('langid', { language_threshold: Math.min(1, best!.score + 0.01) });
  const high = await docStage('langid', { language_threshold: best!.score - 0.01 });
  assert.equal(verdictOf((await low.process([doc(text)]))[0]!), 'language_score');
  assert.equal(verdictOf((await high.process([doc(text)]))[0]!), 'kept');
  const onlyDe = await docStage('langid', { languages: ['de'] });
  const d = doc(text);
  assert.equal(verdictOf((await onlyDe.process([d]))[0]!), 'language_not_allowed');
  assert.equal(d.meta.language, 'en', 'annotated even when dropped');
});

test('langid: empty, malformed and huge texts give a verdict, never a crash', async () => {
  const stage = await docStage('langid');
  const docs = [doc(''), doc('\uD800 lone surrogate \uDFFF'), doc('\u0000\u0001\u0002'), doc('Ein ganz normaler deutscher Satz über das Wetter. '.repeat(20_000))];
  const vs = await stage.process(docs);
  assert.equal(vs.length, 4);
  assert.equal(verdictOf(vs[0]!), 'language_score');
  assert.equal(docs[3]!.meta.language, 'de');
});

test('langid: code keeps its meta.language and passes; newlines are folded for the model', async () => {
  const stage = await docStage('langid');
  const code = doc('def f(x):\n    return x\n', { language: 'python' });
  assert.equal(verdictOf((await stage.process([code]))[0]!), 'kept');
  assert.equal(code.meta.language, 'python');
  assert.equal(normaliseForLid('a\nb\r\n  c\t'), 'a b c');
});
