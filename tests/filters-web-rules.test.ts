import { test } from 'node:test';
import assert from 'node:assert/strict';
import { c4, c4Options, countSentences } from '../filters/c4.ts';
import { fineweb, finewebOptions } from '../filters/fineweb.ts';
import { dirtyWords, dirtyWordsOptions } from '../filters/dirty-words.ts';
import { doc } from './filters-helpers.ts';

const verdictOf = (v: { keep: boolean; rule?: string }) => (v.keep ? 'kept' : v.rule);
const c4o = c4Options.parse({});
const fw = finewebOptions.parse({});

const sentences = (n: number) => Array.from({ length: n }, (_, i) => `This is sentence number ${i + 1} of the text.`);

test('c4: removes short, javascript and policy lines, counts each, and keeps paragraph breaks', () => {
  const text = [...sentences(3), 'Home', '', 'Please enable JavaScript to view the comments.', 'We use cookies; see our privacy policy here.', ...sentences(3)].join('\n');
  const d = doc(text);
  assert.equal(verdictOf(c4(d, c4o)), 'kept');
  const m = d.meta.c4 as { lines_removed: Record<string, number>; lines_kept: number };
  assert.deepEqual(m.lines_removed, { too_long_word: 0, no_terminal_punct: 0, too_few_words: 1, javascript: 1, policy: 1 });
  assert.equal(m.lines_kept, 6);
  assert.equal(d.text, [...sentences(3), '', ...sentences(3)].join('\n'));
});

test('c4: a document left untouched keeps its exact text', () => {
  const text = sentences(6).join('\n');
  const d = doc(text);
  c4(d, c4o);
  assert.equal(d.text, text);
});

test('c4: at least 5 sentences; lorem ipsum and curly brackets drop the document', () => {
  assert.equal(verdictOf(c4(doc(sentences(4).join('\n')), c4o)), 'too_few_sentences');
  assert.equal(verdictOf(c4(doc(sentences(5).join('\n')), c4o)), 'kept');
  assert.equal(verdictOf(c4(doc([...sentences(5), 'Lorem ipsum dolor sit amet.'].join('\n')), c4o)), 'lorem_ipsum');
  assert.equal(verdictOf(c4(doc([...sentences(5), 'function f() { return 1; }'].join('\n')), c4o)), 'curly_bracket');
  assert.equal(verdictOf(c4(doc([...sentences(5), 'function f() { return 1; }'].join('\n')), { ...c4o, filter_curly_bracket: false })), 'kept');
  assert.equal(countSentences('One. Two! Three? four'), 4);
});

test('c4: the terminal punctuation line rule is off by default and removes lines when on', () => {
  const text = [...sentences(5), 'a line without an ending'].join('\n');
  const off = doc(text);
  c4(off, c4o);
  assert.equal(off.text, text);
  const on = doc(text);
  c4(on, { ...c4o, filter_no_terminal_punct: true });
  assert.equal((on.meta.c4 as { lines_removed: Record<string, number> }).lines_removed.no_terminal_punct, 1);
  assert.equal(on.text, sentences(5).join('\n'));
});

test('fineweb: lines ending in punctuation must be more than 12%', () => {
  const mk = (punct: number, total: number) =>
    Array.from({ length: total }, (_, i) => `line number ${i} has quite a few words in it here${i < punct ? '.' : ''}`).join('\n');
  assert.equal(verdictOf(fineweb(doc(mk(3, 25)), fw)), 'line_punct_ratio'); // 0.12
  assert.equal(verdictOf(fineweb(doc(mk(4, 25)), fw)), 'kept'); // 0.16
});

test('fineweb: short lines (≤ 30 characters) under 67%', () => {
  const long = 'This line is long enough to count as a full line of text.';
  const mk = (s: number, l: number) =>
    [...Array.from({ length: s }, (_, i) => `${i} short line here.`), ...Array.from({ length: l }, (_, i) => `${i} ${long}`)].join('\n');
  assert.equal(verdictOf(fineweb(doc(mk(67, 33)), fw)), 'short_line_ratio');
  assert.equal(verdictOf(fineweb(doc(mk(66, 34)), fw)), 'kept');
});

test('fineweb: characters in duplicated lines under 10% (the paper), list-like documents', () => {
  const lines = Array.from({ length: 20 }, (_, i) => `This is a distinct line of prose, number ${i}, with words.`);
  const dup = [...lines, lines[0]!, lines[1]!, lines[2]!].join('\n');
  const d = doc(dup);
  assert.equal(verdictOf(fineweb(d, fw)), 'char_dup_ratio');
  assert.ok((d.meta.fineweb as { char_dup_ratio: number }).char_dup_ratio >= 0.1);
  assert.equal(verdictOf(fineweb(doc([...lines, lines[0]!].join('\n')), fw)), 'kept');
  assert.equal(verdictOf(fineweb(doc([...lines, lines[0]!].join('\n')), { ...fw, char_duplicates_ratio: 0.01 })), 'char_dup_ratio', "datatrove's 0.01");
  const list = Array.from({ length: 30 }, (_, i) => `Item ${i}.`).join('\n') + '\n' + 'This closing line is long enough to count as a sentence of text.';
  assert.equal(verdictOf(fineweb(doc(list), { ...fw, short_line_thr: 1 })), 'list_ratio');
});

test('dirty-words: whole-word, case-insensitive, ratio threshold 0.01 per word', () => {
  const o = dirtyWordsOptions.parse({});
  const clean = Array.from({ length: 99 }, (_, i) => `word${i}`).join(' ');
  const one = doc(`${clean} SHIT`); // 1 in 100
  assert.equal(verdictOf(dirtyWords(one, o)), 'kept');
  assert.deepEqual(one.meta.dirty_words, { list: 'en', count: 1, ratio: 0.01 });
  assert.equal(verdictOf(dirtyWords(doc(`${clean} shit, shit`), o)), 'dirty_word_ratio');
  const sub = doc('A shitake mushroom and a classic assessment of Scunthorpe.');
  dirtyWords(sub, o);
  assert.equal((sub.meta.dirty_words as { count: number }).count, 0, 'no match inside words');
  const phrase = doc('a girls cup, and then 2 girls 1 cup was mentioned');
  dirtyWords(phrase, o);
  assert.equal((phrase.meta.dirty_words as { count: number }).count, 1, 'multi-word entries match');
});

test('dirty-words: the list follows meta.language; a language without a list is annotated and kept', () => {
  const o = dirtyWordsOptions.parse({});
  const de = doc('Das ist eine Scheiße, sagte er.', { language: 'de' });
  dirtyWords(de, o);
  assert.equal((de.meta.dirty_words as { list: string; count: number }).list, 'de');
  assert.ok((de.meta.dirty_words as { count: number }).count >= 1);
  const xx = doc('Some text.', { language: 'xx' });
  assert.equal(verdictOf(dirtyWords(xx, o)), 'kept');
  assert.deepEqual(xx.meta.dirty_words, { list: null, count: 0, ratio: 0 });
});

test('c4: Chinese lines are counted in words and sentences without spaces', () => {
  const zh = ['北京是中国的首都，有很多名胜古迹。上海是一个国际化的大城市。', '长城是世界上最长的建筑。我们明天去参观故宫。', '这本书讲述了一个古老的故事。'].join('\n');
  const d = doc(zh, { language: 'zh' });
  assert.equal(verdictOf(c4(d, c4o)), 'kept');
  assert.equal((d.meta.c4 as { sentences: number }).sentences, 5);
  assert.equal(d.text, zh);
});

test('fineweb: CRLF line ends measure the same as LF (lines come from text/lines.ts)', () => {
  // 30-character lines: short at ≤ 30 only if the \r is not counted as part of the line
  const lines = Array.from({ length: 6 }, (_, i) => `A line of exactly thirty ch ${i}.`);
  lines.push('A last line that is long enough to be a full line of prose.', lines[0]!);
  const lf = doc(lines.join('\n'));
  const crlf = doc(lines.join('\r\n'));
  assert.equal(lines[0]!.length, 30);
  const vLf = verdictOf(fineweb(lf, fw));
  assert.equal(verdictOf(fineweb(crlf, fw)), vLf);
  assert.deepEqual(crlf.meta.fineweb, lf.meta.fineweb);
  assert.equal((lf.meta.fineweb as { short_line_ratio: number }).short_line_ratio, 0.875);
});
