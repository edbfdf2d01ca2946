import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Doc } from '../pipeline/doc.ts';
import { linesOf, wordCountOf, wordsOf } from '../text/doc-text.ts';
import { needsSegmenter, splitWords, type SegmentCache } from '../text/words.ts';
import { countWords, indexWords } from '../text/word-index.ts';
import { countSentences } from '../filters/c4.ts';
import { WordNgrams } from '../text/repetition.ts';
import { SeededRandom } from '../pipeline/seeded-random.ts';

test('wordsOf and linesOf split a document once and again only after its text changes', () => {
  const doc: Doc = { id: 'a', text: 'one two\nthree', meta: {} };
  const words = wordsOf(doc);
  assert.deepEqual(words, ['one', 'two', 'three']);
  assert.equal(wordsOf(doc), words, 'the same array while the text is the same');
  assert.deepEqual(linesOf(doc), ['one two', 'three']);
  doc.text = 'four\r\nfive six';
  assert.deepEqual(wordsOf(doc), ['four', 'five', 'six']);
  assert.deepEqual(linesOf(doc), ['four', 'five six']);
  const other: Doc = { id: 'b', text: 'four\r\nfive six', meta: {} };
  assert.notEqual(wordsOf(other), wordsOf(doc), 'one cache entry per document object');
});

/** The Gopher measures with joined-string keys: the definition WordNgrams must match. */
function reference(words: string[], n: number): { top: number; dup: number } {
  const counts = new Map<string, number>();
  let top = 0;
  for (let i = 0; i + n <= words.length; i++) {
    const gram = words.slice(i, i + n);
    const key = gram.join('\u0000');
    const c = (counts.get(key) ?? 0) + 1;
    counts.set(key, c);
    if (c >= 2) top = Math.max(top, c * (gram.join(' ').length));
  }
  const seen = new Set<string>();
  let dup = 0;
  for (let i = 0; i + n <= words.length; ) {
    const gram = words.slice(i, i + n);
    const key = gram.join('\u0000');
    if (seen.has(key)) {
      dup += gram.join('').length;
      i += n;
    } else {
      seen.add(key);
      i++;
    }
  }
  return { top, dup };
}

test('WordNgrams gives the string-keyed Gopher measures for every n, asked in any order', () => {
  const rnd = new SeededRandom(7);
  const vocab = ['a', 'bb', 'ccc', 'the', 'of', 'repeat', 'x'];
  for (let doc = 0; doc < 200; doc++) {
    const length = Math.floor(rnd.next() * 60);
    const words = Array.from({ length }, () => vocab[Math.floor(rnd.next() * (doc % 2 ? 3 : vocab.length))]!);
    const grams = new WordNgrams(words);
    for (const n of doc % 3 === 0 ? [10, 2, 5, 3, 1, 4] : [2, 3, 4, 5, 6, 7, 8, 9, 10]) {
      const want = reference(words, n);
      assert.equal(grams.topNgramChars(n), want.top, `top ${n}-gram of ${words.join(' ')}`);
      assert.equal(grams.duplicateNgramChars(n), want.dup, `duplicated ${n}-grams of ${words.join(' ')}`);
    }
  }
  assert.equal(new WordNgrams(splitWords('')).topNgramChars(2), 0);
});

const TRICKY = [
  "don't e-mail 3.14 a..b a.-b -x- 'q' ’tis x’y",
  'naïve café Ωmega ٣٤ १२ 𝐀𝐁c 😀a😀 a\u{1D400}b',
  'lone \ud800x \udc00y end\ud800',
  'Un café à Tokyo: 東京の喫茶店です. ภาษาไทยเป็นภาษาที่สวยงาม and 𠮷野家 too',
  '',
  '...---',
];

test('indexWords and countWords give the words of splitWords, as ids by first occurrence', () => {
  const rnd = new SeededRandom(3);
  const alphabet = ['a', 'B', 'é', '1', '٣', '\u0301', "'", '’', '-', '.', ' ', '\n', ',', '😀', '𝐀', '\ud800', '\udc00', 'x'];
  const texts = [...TRICKY];
  for (let k = 0; k < 500; k++) texts.push(Array.from({ length: Math.floor(rnd.next() * 30) }, () => alphabet[Math.floor(rnd.next() * alphabet.length)]!).join(''));
  for (const text of texts) {
    const words = splitWords(text);
    const { ids, vocab, chars, noSpaceScript } = indexWords(text);
    assert.deepEqual(Array.from(ids, (id) => vocab[id - 1]), words, JSON.stringify(text));
    assert.deepEqual(vocab, [...new Set(words)], 'ids numbered by first occurrence');
    assert.equal(chars, words.join('').length);
    assert.equal(noSpaceScript, needsSegmenter(text));
    assert.equal(countWords(text), words.length);
  }
});

test('splitWords with a segment cache gives the same words, and fills the cache by run', () => {
  const segments: SegmentCache = new Map();
  const text = TRICKY[3]!;
  assert.deepEqual(splitWords(text, segments), splitWords(text));
  assert.ok(segments.size > 0);
  assert.deepEqual(splitWords(text, segments), splitWords(text), 'from the cache');
  const doc: Doc = { id: 'c', text, meta: {} };
  assert.deepEqual(wordsOf(doc), splitWords(text));
  assert.equal(wordCountOf(doc), splitWords(text).length);
});

/** C4's sentence ends as a regex: the definition countSentences must match. */
function sentencesByRegex(line: string): number {
  let n = 0;
  let last = 0;
  for (const m of line.matchAll(/[.!?]+["'”’)\]]*(?=\s|$)|[。！？]+[」』”’）]*/g)) {
    n++;
    last = m.index + m[0].length;
  }
  return line.slice(last).trim() !== '' ? n + 1 : n;
}

test('countSentences counts the matches of the sentence-end regex, plus trailing text', () => {
  const rnd = new SeededRandom(5);
  const alphabet = ['.', '!', '?', '"', "'", '”', '’', ')', ']', ' ', '\t', '\u00a0', '\u3000', 'a', 'b', '。', '！', '？', '」', '』', '）', '…'];
  const lines = ['One. Two! Three?', 'Mr. Smith went to Washington.', '"Quoted."  Next', '東京です。大阪です', 'e.g. this', ''];
  for (let k = 0; k < 3000; k++) lines.push(Array.from({ length: Math.floor(rnd.next() * 14) }, () => alphabet[Math.floor(rnd.next() * alphabet.length)]!).join(''));
  for (const line of lines) assert.equal(countSentences(line), sentencesByRegex(line), JSON.stringify(line));
});
