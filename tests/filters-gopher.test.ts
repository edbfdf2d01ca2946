import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gopherQuality, gopherQualityOptions } from '../filters/gopher-quality.ts';
import { gopherRepetition, gopherRepetitionOptions } from '../filters/gopher-repetition.ts';
import { doc } from './filters-helpers.ts';

const q = gopherQualityOptions.parse({});
const r = gopherRepetitionOptions.parse({});
const verdictOf = (v: { keep: boolean; rule?: string }) => (v.keep ? 'kept' : v.rule);

/** `n` sentences of eight words, each with "the" and "of" and six words used nowhere else. */
function prose(n: number): string {
  const w = (i: number, k: number) => words(i * 6 + k + 700);
  return Array.from({ length: n }, (_, i) => `The ${w(i, 0)} of ${w(i, 1)} ${w(i, 2)} ${w(i, 3)} ${w(i, 4)} ${w(i, 5)}.`).join(' ');
}
/** A distinct word per number, so that generated prose does not repeat n-grams. */
function words(i: number): string {
  return i.toString(26).replace(/./g, (c) => String.fromCharCode(97 + parseInt(c, 26))).padEnd(4, 'q');
}

test('gopher-quality: word count bounds (50 .. 100,000)', () => {
  const d49 = doc(Array.from({ length: 49 }, (_, i) => (i % 2 ? 'the' : `w${words(i)}`)).join(' ') + '.');
  assert.equal(verdictOf(gopherQuality(d49, q)), 'short_doc');
  assert.equal((d49.meta.gopher_quality as { words: number }).words, 49);
  const d50 = doc(Array.from({ length: 50 }, (_, i) => (i % 2 ? 'the' : `w${words(i)}`)).join(' ') + '.');
  assert.equal(verdictOf(gopherQuality(d50, q)), 'kept');
  assert.equal(verdictOf(gopherQuality(doc(prose(10)), { ...q, max_doc_words: 60 })), 'long_doc');
});

test('gopher-quality: mean word length 3..10', () => {
  assert.equal(verdictOf(gopherQuality(doc('a of to the an is it be '.repeat(10)), q)), 'below_avg_word_length');
  const long = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 'the' : `supercalifragilistic${words(i)}`)).join(' ');
  assert.equal(verdictOf(gopherQuality(doc(long), q)), 'above_avg_word_length');
  assert.equal(verdictOf(gopherQuality(doc(prose(10)), q)), 'kept');
});

test('gopher-quality: hash and ellipsis ratio 0.1 per word', () => {
  const base = prose(10); // 80 words
  assert.equal(verdictOf(gopherQuality(doc(base + ' #'.repeat(8)), q)), 'kept');
  assert.equal(verdictOf(gopherQuality(doc(base + ' #'.repeat(9)), q)), 'too_many_hashes');
  assert.equal(verdictOf(gopherQuality(doc('…'.repeat(8) + ' ' + base), q)), 'kept');
  assert.equal(verdictOf(gopherQuality(doc('… '.repeat(9) + base), q)), 'too_many_ellipsis');
});

test('gopher-quality: bullet lines ≤ 90%, lines ending in an ellipsis ≤ 30%', () => {
  const lines = (n: number, bullets: number, mark = '- ') =>
    Array.from({ length: n }, (_, i) => `${i < bullets ? mark : ''}The keeper of ${words(i)} sailed to the harbour today.`).join('\n');
  assert.equal(verdictOf(gopherQuality(doc(lines(10, 9)), q)), 'kept');
  assert.equal(verdictOf(gopherQuality(doc(lines(10, 10)), q)), 'too_many_bullet_lines');
  const ell = (k: number) => Array.from({ length: 10 }, (_, i) => `The keeper of ${words(i)} sailed to the harbour${i < k ? '...' : '.'}`).join('\n');
  assert.equal(verdictOf(gopherQuality(doc(ell(3)), q)), 'kept');
  assert.equal(verdictOf(gopherQuality(doc(ell(4)), q)), 'too_many_end_ellipsis_lines');
});

test('gopher-quality: words with a letter ≥ 80%, and at least 2 stop words for English', () => {
  const numbers = prose(5) + ' ' + Array.from({ length: 20 }, (_, i) => String(1000 + i)).join(' ');
  assert.equal(verdictOf(gopherQuality(doc(numbers), q)), 'below_alpha_words_ratio');
  const noStop = Array.from({ length: 60 }, (_, i) => `word${words(i)}`).join(' ');
  assert.equal(verdictOf(gopherQuality(doc(noStop), q)), 'not_enough_stop_words');
  assert.equal(verdictOf(gopherQuality(doc(noStop + ' the and'), q)), 'kept');
  assert.equal(verdictOf(gopherQuality(doc(noStop, { language: 'de' }), q)), 'kept', 'the English stop-word rule is not applied to German');
});

test('gopher-quality: Chinese text is split into words by Intl.Segmenter and skips the word-length rule', () => {
  const zh = '我们今天去公园散步，天气很好。北京是中国的首都，有很多名胜古迹。上海是一个国际化的大城市。'.repeat(3);
  const d = doc(zh, { language: 'zh' });
  assert.equal(verdictOf(gopherQuality(d, q)), 'kept');
  const m = d.meta.gopher_quality as { words: number; mean_word_length: number };
  assert.ok(m.words >= 50 && m.mean_word_length < 3, JSON.stringify(m));
});

test('gopher-quality: code documents are skipped and say so', () => {
  const d = doc('x = 1', { category: 'code' });
  assert.equal(verdictOf(gopherQuality(d, q)), 'kept');
  assert.deepEqual(d.meta.gopher_quality, { skipped: 'code' });
});

test('gopher-repetition: duplicate line fraction 0.30', () => {
  const uniq = (n: number) => Array.from({ length: n }, (_, i) => `The keeper of ${words(i)} sailed home.`);
  const relaxed = { ...r, dup_line_char_frac: 1, dup_para_frac: 1, dup_para_char_frac: 1, top_n_grams: [], dup_n_grams: [] };
  const bad = [...uniq(6), ...Array(4).fill('A repeated line.')].join('\n'); // 3 repeats in 10 lines
  const bad2 = [...uniq(6), ...Array(5).fill('A repeated line.')].join('\n'); // 4 in 11 = 0.36
  assert.equal(verdictOf(gopherRepetition(doc(bad), relaxed)), 'kept', '3/10 is not above 0.30');
  assert.equal(verdictOf(gopherRepetition(doc(bad2), relaxed)), 'dup_line_frac');
});

test('gopher-repetition: duplicate line and paragraph characters 0.20', () => {
  const body = Array.from({ length: 20 }, (_, i) => `The keeper of ${words(i)} sailed home.`).join('\n\n');
  const repeated = 'This paragraph says the very same thing again and again.';
  const onlyChars = { ...r, dup_line_frac: 1, dup_para_frac: 1, top_n_grams: [], dup_n_grams: [] };
  const d = doc(`${body}\n\n${repeated}\n\n${repeated}\n\n${repeated}\n\n${repeated}\n\n${repeated}\n\n${repeated}`);
  assert.equal(verdictOf(gopherRepetition(d, onlyChars)), 'dup_para_char_frac');
  const m = d.meta.gopher_repetition as Record<string, number>;
  assert.ok(m.dup_para_char_frac! > 0.2 && m.dup_line_char_frac! > 0.2);
  assert.equal(verdictOf(gopherRepetition(doc(`${body}\n\n${repeated}\n\n${repeated}`), onlyChars)), 'kept');
});

test('gopher-repetition: top 2-gram coverage 0.20 and duplicated 5-grams 0.15', () => {
  const base = prose(12);
  const top2 = { ...r, dup_n_grams: [] };
  assert.equal(verdictOf(gopherRepetition(doc(base), r)), 'kept');
  assert.equal(verdictOf(gopherRepetition(doc(base + ' buy now'.repeat(60)), top2)), 'top_2_gram');
  const sentence = 'every single morning we walk along the quiet river';
  const dup5 = { ...r, top_n_grams: [], dup_n_grams: [[5, 0.15]] as [number, number][] };
  const three = doc(`${prose(6)} ${sentence} ${sentence} ${sentence}`);
  assert.equal(verdictOf(gopherRepetition(three, dup5)), 'duplicated_5_n_grams');
  assert.ok((three.meta.gopher_repetition as Record<string, number>).dup_5_gram_char_frac! > 0.15);
  const once = doc(`${prose(6)} ${sentence} ${sentence}`);
  assert.equal(verdictOf(gopherRepetition(once, dup5)), 'kept');
  assert.ok((once.meta.gopher_repetition as Record<string, number>).dup_5_gram_char_frac! > 0, 'measured even when kept');
});

test('gopher-repetition: a short text with no repeated n-gram is not repetition (the top n-gram must occur twice)', () => {
  const fortune = doc('Never trust a computer you cannot throw out a window.');
  assert.equal(verdictOf(gopherRepetition(fortune, r)), 'kept');
  const m = fortune.meta.gopher_repetition as Record<string, number>;
  assert.deepEqual([m.top_2_gram_char_frac, m.top_3_gram_char_frac, m.top_4_gram_char_frac], [0, 0, 0]);
  const twice = doc('buy now buy now and then go home');
  gopherRepetition(twice, r);
  assert.equal((twice.meta.gopher_repetition as Record<string, number>).top_2_gram_char_frac, Number((14 / 32).toFixed(4)));
});
