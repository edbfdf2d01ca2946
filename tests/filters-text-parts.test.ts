import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Doc } from '../pipeline/doc.ts';
import { linesOf, wordsOf } from '../filters/text/doc-text.ts';
import { splitWords } from '../filters/text/words.ts';
import { WordNgrams } from '../filters/text/repetition.ts';
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
