/**
 * Our Llama 3 tokenizer (tiktoken's Rust BPE core + Meta's ranks and pattern) against references:
 * llama3-tokenizer-js on real multilingual text and code, ids worked out by hand from Meta's
 * pattern where that package's JavaScript `\s` makes it differ (U+FEFF, U+0085), and Meta's
 * chunking of long strings.
 *
 * Fixture: tests/fixtures/tokenizer/varied-text.jsonl (how it was made: SOURCE.md there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import llama3TokenizerJs from 'llama3-tokenizer-js';
import { BOS_ID, EOS_ID, Llama3Tokenizer } from '../pipeline/tokenizer/llama3-tokenizer.ts';
import { isPythonSpace, metaEncodeChunks, MAX_CONSECUTIVE_SLICE_LEN } from '../pipeline/tokenizer/meta-chunks.ts';
import { bakedTokens, importedTokens, LLAMA3_VOCAB_SIZE } from '../pipeline/tokenizer/llama3-vocabulary.ts';

const tokenizer = new Llama3Tokenizer();
const NEVER = /(?!)/g;

/** llama3-tokenizer-js with special-token parsing switched off (document text is ordinary text). */
function reference(text: string): number[] {
  return llama3TokenizerJs.encode(text, { bos: false, eos: false, specialTokenRegex: NEVER } as Parameters<typeof llama3TokenizerJs.encode>[1]);
}

function ours(text: string): number[] {
  return Array.from(tokenizer.encode(text));
}

const fixture = readFileSync(new URL('./fixtures/tokenizer/varied-text.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter((l) => l !== '')
  .map((l) => JSON.parse(l) as { id: string; text: string });

test('ids equal llama3-tokenizer-js on real text in 13 languages and code', () => {
  assert.equal(fixture.length, 17);
  let tokens = 0;
  for (const doc of fixture) {
    assert.ok(!/[\uFEFF\u0085]/.test(doc.text), `${doc.id} has U+FEFF/U+0085, where the reference is known to differ`);
    const expected = reference(doc.text);
    assert.deepEqual(ours(doc.text), expected, doc.id);
    tokens += expected.length;
  }
  assert.ok(tokens > 20_000, `compared ${tokens} tokens`);
});

test('ids equal llama3-tokenizer-js on CJK, emoji, digits, whitespace runs and mixed scripts', () => {
  const samples = [
    '東京都は日本の首都です。人口は約1400万人。한국어 문장도 있습니다. Привет, мир! مرحبا بالعالم',
    'Emoji: 👩‍👩‍👧‍👦 🇫🇷 🏳️‍🌈 ✨✨✨ family',
    '1234567890 3.14159 1,000,000 ٣٤٥ ४५६ ⅷ ½ 0x7fffffff',
    'tabs\t\t\tand spaces      and\n\n\n\nnewlines \r\n\r\n end   ',
    ' '.repeat(100) + 'x' + '\n'.repeat(50) + '\t'.repeat(33),
    "It's we'll they'D I'M you'VE she'S",
    'def f(x):\n    return {"a": [x ** 2 for x in range(10)]}  # comment\n\n\tpass\n',
    'ﬁ ﬂ Å Å é é ǅ ǈ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝟙𝟚𝟛',
    'zero\u200bwidth\u200cjoiner\u200d nbsp\u00a0thin\u2009ideographic\u3000space\u2028line\u2029para',
  ];
  for (const s of samples) assert.deepEqual(ours(s), reference(s), JSON.stringify(s));
});

test('U+FEFF and U+0085 follow Meta (\\s = White_Space), by ids worked out by hand', () => {
  // Meta's pattern splits each text into the pieces listed; each piece's ids come from BPE on the
  // piece alone. llama3-tokenizer-js (JavaScript \s: U+FEFF yes, U+0085 no) splits differently.
  const cases: { text: string; pieces: string[]; ids: number[]; jsIds: number[] }[] = [
    // ' \uFEFF' is one piece: ' ?[^\s\p{L}\p{N}]+' (U+FEFF is not whitespace for Meta)
    { text: 'a \uFEFFb', pieces: ['a', ' \uFEFF', 'b'], ids: [64, 76880, 65], jsIds: [64, 220, 3305, 65] },
    // U+0085 is whitespace: ' ' stops before it ('\s+(?!\S)'), then '[^\r\n\p{L}\p{N}]?\p{L}+'
    { text: 'x \u0085y', pieces: ['x', ' ', '\u0085y'], ids: [87, 220, 116360, 88], jsIds: [87, 2188, 227, 88] },
    // Wikipedia coordinates as found in Common Crawl text
    { text: '°35 \uFEFF35.038', pieces: ['°', '35', ' \uFEFF', '35', '.', '038'], ids: [11877, 1758, 76880, 1758, 13, 24462], jsIds: [11877, 1758, 220, 3305, 1758, 13, 24462] },
    // '.' stops at U+0085 (whitespace), then '\s*[\r\n]+' takes U+0085 U+0085 \n
    { text: 'end.\u0085\u0085\nnext', pieces: ['end', '.', '\u0085\u0085\n', 'next'], ids: [408, 13, 116360, 116360, 198, 3684], jsIds: [408, 13, 116360, 116360, 198, 3684] },
  ];
  for (const c of cases) {
    assert.equal(c.pieces.join(''), c.text);
    assert.deepEqual(c.pieces.flatMap((p) => reference(p)), c.ids, `pieces of ${JSON.stringify(c.text)}`);
    assert.deepEqual(ours(c.text), c.ids, JSON.stringify(c.text));
    assert.deepEqual(reference(c.text), c.jsIds, `reference on ${JSON.stringify(c.text)}`);
  }
});

test('text that looks like special tokens is encoded as text, never as special ids', () => {
  const text = '<|begin_of_text|>Hello<|eot_id|><|end_of_text|><|reserved_special_token_5|>';
  const ids = ours(text);
  assert.ok(ids.length > 10);
  assert.ok(ids.every((id) => id < 128_000), 'no special id');
  assert.equal(tokenizer.decode(ids), text);
  const doc = tokenizer.encodeDocument(text);
  assert.equal(doc[0], BOS_ID);
  assert.equal(doc[doc.length - 1], EOS_ID);
  assert.deepEqual(Array.from(doc.subarray(1, -1)), ids);
  assert.equal(tokenizer.decode([BOS_ID, EOS_ID]), '<|begin_of_text|><|end_of_text|>');
});

test('lone surrogates are encoded as U+FFFD, as Meta (tiktoken) does', () => {
  for (const [withLone, replaced] of [
    ['a\uD800b', 'a\uFFFDb'],
    ['\uDC00 end', '\uFFFD end'],
    ['pair 😀 then lone \uD83D', 'pair 😀 then lone \uFFFD'],
  ] as const) {
    assert.deepEqual(ours(withLone), ours(replaced));
    assert.equal(tokenizer.decode(ours(withLone)), replaced);
  }
});

test('decode(encode(text)) == text for valid text', () => {
  for (const doc of fixture) assert.equal(tokenizer.decode(ours(doc.text)), doc.text, doc.id);
  const mixed = 'naïve café — 中文 — 🎉\r\n\t x²  \u0085\uFEFF';
  assert.equal(tokenizer.decode(ours(mixed)), mixed);
  assert.throws(() => tokenizer.decode([LLAMA3_VOCAB_SIZE]), RangeError);
});

test("Python's isspace is the whitespace of Meta's chunking (U+001C..U+001F yes, U+FEFF no)", () => {
  // python3 -c "print([hex(c) for c in range(0x110000) if chr(c).isspace()])"
  const python = [0x9, 0xa, 0xb, 0xc, 0xd, 0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x85, 0xa0, 0x1680, 0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000];
  const ours = [];
  for (let cp = 0; cp < 0x110000; cp++) if (isPythonSpace(cp)) ours.push(cp);
  assert.deepEqual(ours, python);
});

test("long runs are cut like Meta's tokenizer (25,000 characters) and encoded piece by piece", () => {
  const run = 'ab'.repeat(15_000); // 30,000 non-space characters
  const text = `start ${run} end`;
  const chunks = metaEncodeChunks(text);
  assert.equal(chunks.join(''), text);
  // the space ends the run of 'start'; the 30,000-character run is cut after its 25,000th
  assert.equal(chunks.length, 2);
  assert.equal(chunks[0], `start ${run.slice(0, MAX_CONSECUTIVE_SLICE_LEN)}`);
  assert.deepEqual(ours(text), [...ours(chunks[0]!), ...ours(chunks[1]!)]);
  // astral characters count once (code points, as in Python)
  const emoji = '😀'.repeat(25_001);
  assert.deepEqual(metaEncodeChunks(emoji).map((c) => [...c].length), [25_000, 1]);
  // short text is one chunk
  assert.deepEqual(metaEncodeChunks('a b'), ['a b']);
});

test('the vocabulary read from the package bundle\'s baked data is the package\'s own vocabById, token for token', () => {
  const baked = bakedTokens();
  assert.ok(baked, 'the bundle has the shape the reader expects');
  assert.equal(baked.length, LLAMA3_VOCAB_SIZE);
  assert.deepEqual(baked, llama3TokenizerJs.vocabById);
  assert.deepEqual(importedTokens(), llama3TokenizerJs.vocabById, 'the fallback (its CommonJS bundle) too');
  assert.equal(baked[128000], '<|begin_of_text|>');
  assert.equal(baked[128255], '<|reserved_special_token_247|>');
});
