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

test('normalizeText on ASCII text (one-pass path) equals the regex steps, under every combination of settings', () => {
  const reference = (text: string, n: ReturnType<typeof normalizationSchema.parse>): string => {
    let t = text;
    if (n.lowercase) t = t.toLowerCase();
    if (n.remove_diacritics) t = t.normalize('NFD').replace(/\p{M}+/gu, '').normalize('NFC');
    if (n.norm_numbers) t = t.replace(/\p{Nd}/gu, '0');
    if (n.remove_punctuation) t = t.replace(/[\p{P}\p{S}]+/gu, ' ');
    if (n.norm_whitespace) t = t.replace(/\s+/gu, ' ').trim();
    return t;
  };
  let seed = 7;
  const rand = (k: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) % k);
  const samples = [' \t Hello, World!! 2024 -- (x) \n\n', "it's e.g. a--b", '\u0000\u001f\u007f\u000b\u000c', ''];
  for (let i = 0; i < 300; i++) samples.push(String.fromCharCode(...Array.from({ length: rand(40) }, () => (rand(4) === 0 ? 32 : rand(128)))));
  const keys = ['lowercase', 'remove_diacritics', 'norm_numbers', 'remove_punctuation', 'norm_whitespace'] as const;
  for (let mask = 0; mask < 32; mask++) {
    const n = normalizationSchema.parse(Object.fromEntries(keys.map((k, i) => [k, (mask & (1 << i)) !== 0])));
    for (const t of samples) assert.equal(normalizeText(t, n), reference(t, n), `${JSON.stringify(t)} ${JSON.stringify(n)}`);
  }
});
