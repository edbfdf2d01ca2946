import { test } from 'node:test';
import assert from 'node:assert/strict';
import { predictLanguages, normaliseForLid } from '../filters/langid/lid-model.ts';
import { lidPrefix } from '../filters/langid/prefix.ts';
import { round4 } from '../filters/meta-number.ts';
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
  const stage = await docStage('langid', { max_chars: 0 }); // the whole 1 MB text reaches the model
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

/** `n` characters or more of `sentence`, repeated with a space between. */
const atLeast = (sentence: string, n: number) => Array.from({ length: Math.ceil(n / (sentence.length + 1)) }, () => sentence).join(' ');

test('langid: max_chars bounds what the model sees (a German opening, then far more English)', async () => {
  const [en, de] = ['udhr-1-en', 'udhr-1-de'].map((id) => fixtureDocs('udhr-article1.jsonl').find((d) => d.id === id)!.text);
  const german = atLeast(de!, 600);
  const text = `${german}\n\n${atLeast(en!, 20_000)}`;
  const classify = async (options: Record<string, unknown>) => {
    const d = doc(text);
    await (await docStage('langid', options)).process([d]);
    return { language: d.meta.language, score: d.meta.language_score };
  };
  assert.equal((await classify({ max_chars: 0 })).language, 'en', 'the whole text is mostly English');
  const bounded = await classify({ max_chars: 500 });
  const seen = lidPrefix(text, 500);
  assert.ok(seen.length <= 500 && seen.length > 250 && german.startsWith(seen));
  const [alone] = await predictLanguages(seen);
  assert.deepEqual(bounded, { language: 'de', score: round4(alone!.score) }, 'the same score as the prefix alone');
  const longGerman = `${atLeast(de!, 12_000)}\n${atLeast(en!, 40_000)}`;
  const d = doc(longGerman);
  await (await docStage('langid')).process([d]);
  assert.equal(d.meta.language, 'de', 'the default bound (10,000 characters) applies too');
});

test('langid: the prefix is cut at white space, within max_chars, and never inside a surrogate pair', () => {
  const text = 'alpha beta\tgamma\ndelta epsilon';
  assert.equal(lidPrefix(text, 0), text);
  assert.equal(lidPrefix(text, text.length), text);
  assert.equal(lidPrefix(text, 12), 'alpha beta');
  assert.equal(lidPrefix(text, 10), 'alpha beta', 'white space right after the window: cut there');
  assert.equal(lidPrefix(text, 21), 'alpha beta\tgamma');
  assert.equal(lidPrefix('長い日本語の文章には空白がない', 5), '長い日本語', 'no white space: cut at max_chars');
  assert.equal(lidPrefix('ab \u{1F600}\u{1F600}\u{1F600}', 6), 'ab \u{1F600}', 'no white space in the second half, pair kept whole');
});
