/**
 * The pre-token cache splits text with a JavaScript copy of Meta's pattern and byte-pair encodes
 * new pieces in JavaScript; these tests check that the copy splits like tiktoken's Rust regex and
 * that the ids are tiktoken's, so the cache never changes an id.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Llama3Tokenizer } from '../pipeline/tokenizer/llama3-tokenizer.ts';
import { LLAMA3_PRETOKEN_REGEX, pretokenEnd, UNICODE_VERSION_SKEW } from '../pipeline/tokenizer/pretoken-split.ts';

const cached = new Llama3Tokenizer({ pretokenCache: true, cacheEntries: 1000 });
const plain = new Llama3Tokenizer({ pretokenCache: false });

/** Contexts in which a character's class (letter, number, White_Space, other) decides the split. */
function probes(c: string): string {
  return `a${c}b ${c}1 ${c}${c}\n'${c}x\t${c} \r\n${c}`;
}

function assertSameIds(text: string, label: string): void {
  const a = cached.encode(text);
  const b = plain.encode(text);
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) assert.fail(`cache changes the ids of ${label}`);
}

test('with and without the cache, ids agree for every BMP character in splitting contexts', () => {
  for (let start = 0; start < 0x10000; start += 1024) {
    let text = '';
    for (let cp = start; cp < start + 1024; cp++) if (cp < 0xd800 || cp > 0xdfff) text += probes(String.fromCodePoint(cp));
    assertSameIds(text, `U+${start.toString(16)}..U+${(start + 1023).toString(16)}`);
  }
});

test('ids agree for astral characters (every 61st code point, and the known Unicode-version skew)', () => {
  let text = '';
  for (let cp = 0x10000; cp < 0x110000; cp += 61) text += probes(String.fromCodePoint(cp));
  for (const cp of [0x11de0, 0x11de9, 0x16ff4, 0x16ff6, 0x1f600, 0x20000, 0x1d400]) {
    text += probes(String.fromCodePoint(cp));
    assertSameIds(probes(String.fromCodePoint(cp)), `U+${cp.toString(16)}`);
  }
  assertSameIds(text, 'astral sample');
  assert.ok(UNICODE_VERSION_SKEW.test('\u{11de5}'));
});

test('ids agree on contractions, whitespace runs and repeated text (cache hits and evictions)', () => {
  const text = "I'm sure it'S fine, we'LL see; they'd've ſ 'ſ it'ſ\n\n\n   \t\t  x  \u0085\u0085 \uFEFF end ";
  for (let i = 0; i < 3; i++) assertSameIds(text.repeat(50 + i), `repeat ${i}`);
  let many = '';
  for (let i = 0; i < 3000; i++) many += `w${i.toString(36)} ${i} `; // more pieces than cacheEntries
  assertSameIds(many, 'many distinct pieces');
});

/** Seeded random text over characters of every class the pattern tells apart. */
function randomText(seed: number, length: number): string {
  const alphabet = ["'", 's', 'S', '\u017f', 't', 'r', 'e', 'E', 'v', 'm', 'l', 'L', 'd', 'x', 'é', '東', '😀', '𝔘', '1', '٣', '½', ' ', ' ', '\t', '\n', '\r', '\u0085', '\u00a0', '\u3000', '\uFEFF', '.', ',', '(', '-', '\u200b'];
  let s = seed;
  let out = '';
  for (let i = 0; i < length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    out += alphabet[s % alphabet.length];
  }
  return out;
}

test('the scanner splits text exactly where the pattern (as a regex) does', () => {
  for (let seed = 1; seed <= 300; seed++) {
    const text = randomText(seed, 200);
    const expected = Array.from(text.matchAll(LLAMA3_PRETOKEN_REGEX), (m) => m[0]);
    const pieces: string[] = [];
    for (let start = 0; start < text.length;) {
      const end = pretokenEnd(text, start);
      pieces.push(text.slice(start, end));
      start = end;
    }
    assert.deepEqual(pieces, expected, `seed ${seed}: ${JSON.stringify(text)}`);
  }
});

test('ids agree on random mixed text and on long pieces (byte-pair merges, leftmost on ties)', () => {
  for (let seed = 1; seed <= 200; seed++) assertSameIds(randomText(seed, 300), `random text, seed ${seed}`);
  // pieces longer than the cache takes, encoded by the JavaScript byte-pair encoder directly
  // (over 256 bytes: by its heap-ordered merge)
  const letters = Array.from({ length: 3000 }, (_, i) => 'abcdefghijklmnopqrstuvwxyzéüß'[(i * 7919) % 29]).join('');
  const han = Array.from({ length: 700 }, (_, i) => String.fromCodePoint(0x4e00 + ((i * 104_729) % 2000))).join('');
  for (const piece of ['a'.repeat(101), 'ab'.repeat(70), '東京都'.repeat(40), ' '.repeat(90), '='.repeat(77), '😀'.repeat(33), 'x'.repeat(25_000), '-'.repeat(300), letters, han]) {
    assertSameIds(piece, `long piece ${JSON.stringify(piece.slice(0, 6))}… (${piece.length})`);
    assertSameIds(`word ${piece} word`, `long piece ${JSON.stringify(piece.slice(0, 6))}… in text`);
  }
});
