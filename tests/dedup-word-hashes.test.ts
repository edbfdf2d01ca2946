import { test } from 'node:test';
import assert from 'node:assert/strict';
import { COMPOSES_WITH_PREVIOUS, normalizationSchema, normalizedWordHashes, normalizeText, wordHashes, wordsOf } from '../dedup/normalize-text.ts';
import { needsSegmenter } from '../text/words.ts';
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

const regexSteps = (text: string, n: ReturnType<typeof normalizationSchema.parse>): string => {
  let t = text;
  if (n.lowercase) t = t.toLowerCase();
  if (n.remove_diacritics) t = needsSegmenter(t) ? t.replace(/[\p{L}\p{M}\p{N}]+/gu, (run) => (needsSegmenter(run) ? run : run.normalize('NFD').replace(/\p{M}+/gu, '').normalize('NFC'))) : t.normalize('NFD').replace(/\p{M}+/gu, '').normalize('NFC');
  if (n.norm_numbers) t = t.replace(/\p{Nd}/gu, '0');
  if (n.remove_punctuation) t = t.replace(/[\p{P}\p{S}]+/gu, ' ');
  if (n.norm_whitespace) t = t.replace(/\s+/gu, ' ').trim();
  return t;
};

/** Random strings over letters, marks, digits, punctuation, symbols and spaces of many scripts, emoji and lone surrogates. */
function unicodeSamples(count: number): string[] {
  const pool = [
    ...'aZ09 \t\n.-\'’,!?()Σσςİıßﬁ½²٣०۵éÉñÑøØåÅæœçÇŀĳǅ', '\u0301', '\u0308', '\u0327', '\u093c', '\u0e48', '\u3099', '\u00a0', '\u2003', '\u200d', '\u00ad', '\ufeff',
    ...'абвгдЁЖЙйќΆάΐΰῥὨ', ...'अक़ख़ाि्ং়ক্ষ', ...'مرحبا بالعالم ١٢٣', ...'שָׁלוֹם', ...'한국어 가각', '\u1100', '\u1161', '\u11a8', ...'中文日本語のテキストです。ไทย',
    '😀', '👍🏽', '𝟙', '𝐀', '\u{1d15e}', '\u{2f800}', '\ud800', '\udc00', 'Ω', 'Å', 'K', '™', '…', '—', '“', '”',
  ];
  let seed = 3;
  const rand = (k: number): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) % k;
  return Array.from({ length: count }, () => Array.from({ length: rand(30) }, () => pool[rand(pool.length)]).join(''));
}

test('normalizeText of any text (the per-character path included) equals the regex steps, under every combination of settings', () => {
  const samples = [...unicodeSamples(3000), 'ΣΑΣ ΟΔΟΣ. Σ', 'İstanbul', 'naïve café', '가\u11a8 \u1100\u1161', '2024年の😀', 'x\ud800y'];
  const keys = ['lowercase', 'remove_diacritics', 'norm_numbers', 'remove_punctuation', 'norm_whitespace'] as const;
  for (let mask = 0; mask < 32; mask++) {
    const n = normalizationSchema.parse(Object.fromEntries(keys.map((k, i) => [k, (mask & (1 << i)) !== 0])));
    for (const t of samples) assert.equal(normalizeText(t, n), regexSteps(t, n), `${JSON.stringify(t)} ${JSON.stringify(n)}`);
  }
});

test('normalizedWordHashes equals wordHashes of the normalised text, which equals hashString32 of its words', () => {
  const keys = ['lowercase', 'remove_diacritics', 'norm_numbers', 'remove_punctuation', 'norm_whitespace'] as const;
  const samples = [...unicodeSamples(1500), ...texts, "Don't e.g. 3.14 X-ray", 'ABC def 123\u0001x'];
  for (let mask = 0; mask < 32; mask++) {
    const n = normalizationSchema.parse(Object.fromEntries(keys.map((k, i) => [k, (mask & (1 << i)) !== 0])));
    for (const t of samples) {
      const s = normalizeText(t, n);
      const [fused, h, words] = [normalizedWordHashes(t, n, 5, 6), wordHashes(s, 5, 6), wordsOf(s)];
      assert.deepEqual([...fused.a.subarray(0, fused.count)], [...h.a.subarray(0, h.count)], JSON.stringify(t));
      assert.deepEqual([...fused.b!.subarray(0, fused.count)], [...h.b!.subarray(0, h.count)], JSON.stringify(t));
      assert.deepEqual([...h.a.subarray(0, h.count)], words.map((w) => hashString32(w, 5) | 0), JSON.stringify(s));
    }
  }
});

test('every non-mark character that canonical composition joins to the one before is in COMPOSES_WITH_PREVIOUS', () => {
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    if (cp >= 0xd800 && cp <= 0xdfff) continue;
    const d = [...String.fromCodePoint(cp).normalize('NFD')];
    for (const x of d.slice(1)) if (!/\p{M}/u.test(x)) assert.match(x, COMPOSES_WITH_PREVIOUS, `U+${x.codePointAt(0)!.toString(16)} in U+${cp.toString(16)}`);
  }
});
