import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizationSchema, normalizeText, wordHashes, wordsOf } from '../dedup/normalize-text.ts';
import { hashString32 } from '../pipeline/hash.ts';

const texts = [
  '',
  '   ',
  'plain words only',
  "it's a well-known e.g. fact: x.y.z -- don't end-. .start 'quoted' trailing-",
  'Mixed CASE 2024 and 3.14 and a\u0001b\tc\nd\u007fe',
  "a--b a''b a..b .a. -a- 'a'",
  'naïve café über ’curly’ quotes',
  '中文的句子，有标点。English too',
  'ภาษาไทย เป็น ภาษา',
];

test('wordHashes gives hashString32 of every word wordsOf splits, on ASCII and non-ASCII text, raw and normalised', () => {
  const norm = normalizationSchema.parse({});
  const raw = normalizationSchema.parse({ lowercase: false, remove_diacritics: false, norm_numbers: false, remove_punctuation: false, norm_whitespace: false });
  for (const t of texts) {
    for (const n of [norm, raw]) {
      const s = normalizeText(t, n);
      const words = wordsOf(s);
      const h = wordHashes(s, 11, 22);
      assert.equal(h.count, words.length, JSON.stringify(s));
      assert.deepEqual([...h.a.subarray(0, h.count)], words.map((w) => hashString32(w, 11) | 0), JSON.stringify(s));
      assert.deepEqual([...h.b!.subarray(0, h.count)], words.map((w) => hashString32(w, 22) | 0), JSON.stringify(s));
    }
  }
  const long = 'a '.repeat(5000); // more words than the first guess of the array size
  assert.equal(wordHashes(long, 1).count, 5000);
  assert.equal(wordHashes(long, 1).b, undefined);
});
