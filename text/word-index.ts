/**
 * The words of a text as ids, without a string per word: `splitWords(text)` is
 * `Array.from(ids, (id) => vocab[id - 1])`. The rules that only count words, measure their length,
 * test each distinct word once (letters, stop words) or compare them (n-grams) read this.
 *
 * Text without a no-space script is scanned code unit by code unit, following the word regex of
 * words.ts (runs of \p{L}\p{M}\p{N} joined by single `'`, `’`, `-` or `.`), and each word is
 * interned by its characters in place; only the distinct words become strings. Other text goes
 * through `splitWords` (Intl.Segmenter) and is interned from its words.
 * The scan and interning cost about what `text.match(WORD)` alone does (bench/filters.bench.ts:
 * its baseline is `splitWords`, each rule's speed a ratio of it), and leave no string per word
 * behind: the garbage, the word Map of the n-gram counter and the per-word letter and stop-word
 * tests of gopher-quality go with them.
 */
import { needsSegmenter, splitWords, type SegmentCache } from './words.ts';

export interface WordIndex {
  /** ids[i]: the word at position i, numbered 1, 2, ... in order of first occurrence. */
  readonly ids: Int32Array;
  /** vocab[id - 1]: the word of `id`. */
  readonly vocab: readonly string[];
  /** Characters in all words (UTF-16 code units, as `String.length`). */
  readonly chars: number;
  /** `needsSegmenter(text)`: the text holds a script written without spaces. */
  readonly noSpaceScript: boolean;
}

/** Bits of a character's class. */
const WORD_CHAR = 1; // \p{L}\p{M}\p{N}
const NO_SPACE_CHAR = 2; // needsSegmenter(character)

let bmp: Uint8Array | undefined;
const astral = new Map<number, number>();

function classify(ch: string): number {
  return (/[\p{L}\p{M}\p{N}]/u.test(ch) ? WORD_CHAR : 0) | (needsSegmenter(ch) ? NO_SPACE_CHAR : 0);
}

/** The class of every BMP code unit (surrogates: 0), built once, on first use. */
function bmpClasses(): Uint8Array {
  if (bmp !== undefined) return bmp;
  const t = new Uint8Array(0x10000);
  for (let c = 0; c < 0x10000; c++) if (c < 0xd800 || c > 0xdfff) t[c] = classify(String.fromCharCode(c));
  return (bmp = t);
}

function astralClass(cp: number): number {
  let k = astral.get(cp);
  if (k === undefined) astral.set(cp, (k = classify(String.fromCodePoint(cp))));
  return k;
}

/** `'`, `’`, `-`, `.`: joins two runs of word characters into one word. */
function isJoiner(c: number): boolean {
  return c === 0x27 || c === 0x2019 || c === 0x2d || c === 0x2e;
}

/** The word index of `text`; `segments` caches the segmenter's work across texts of one document. */
export function indexWords(text: string, segments?: SegmentCache): WordIndex {
  // A no-space script stops the scan: such text goes through the segmenter.
  return scanWords(text, bmpClasses(), new Interner(text)) ?? internWords(splitWords(text, segments), true);
}

/** `splitWords(text).length`, without the words or their ids. */
export function countWords(text: string, segments?: SegmentCache): number {
  return scanWords(text, bmpClasses(), null) ?? splitWords(text, segments).length;
}

/** The class of the surrogate pair at `i` (0 when `i` does not start one). */
function pairClass(text: string, i: number, n: number): number {
  const c = text.charCodeAt(i);
  if (c < 0xd800 || c > 0xdbff || i + 1 >= n) return 0;
  const d = text.charCodeAt(i + 1);
  return d >= 0xdc00 && d <= 0xdfff ? astralClass(((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000) : 0;
}

/** Width in code units (1 or 2) of the word character at `i`, or 0 when it is not one. */
function wordCharAt(text: string, i: number, n: number, classes: Uint8Array): number {
  if (classes[text.charCodeAt(i)]! & WORD_CHAR) return 1;
  return pairClass(text, i, n) & WORD_CHAR ? 2 : 0;
}

/**
 * The words of text, or undefined when it holds a no-space script (every character is looked at,
 * so one pass both finds that out and splits). With no interner, the words are only counted.
 */
function scanWords(text: string, classes: Uint8Array, table: Interner): WordIndex | undefined;
function scanWords(text: string, classes: Uint8Array, table: null): number | undefined;
function scanWords(text: string, classes: Uint8Array, table: Interner | null): WordIndex | number | undefined {
  const n = text.length;
  let ids = new Int32Array(table === null ? 0 : Math.max(16, n >>> 3));
  let count = 0;
  let chars = 0;
  let i = 0;
  while (i < n) {
    const first = text.charCodeAt(i);
    let k = classes[first]!;
    if (first >= 0xd800 && first <= 0xdbff) k = pairClass(text, i, n);
    if (k & NO_SPACE_CHAR) return undefined;
    if ((k & WORD_CHAR) === 0) {
      // Not a word start. A surrogate pair that is not a word character is passed in two steps:
      // a low surrogate is never a word character.
      i++;
      continue;
    }
    const start = i;
    let h = 0x811c9dc5;
    for (;;) {
      // a run of word characters
      while (i < n) {
        const c = text.charCodeAt(i);
        const kc = classes[c]!;
        if (kc === WORD_CHAR) {
          h = Math.imul(h ^ c, 0x01000193);
          i++;
          continue;
        }
        if (kc & NO_SPACE_CHAR) return undefined;
        const kp = pairClass(text, i, n);
        if (kp & NO_SPACE_CHAR) return undefined;
        if ((kp & WORD_CHAR) === 0) break;
        h = Math.imul(Math.imul(h ^ c, 0x01000193) ^ text.charCodeAt(i + 1), 0x01000193);
        i += 2;
      }
      // a joiner followed by a word character continues the word
      if (i + 1 < n && isJoiner(text.charCodeAt(i)) && wordCharAt(text, i + 1, n, classes) !== 0) {
        h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
        i++;
        continue;
      }
      break;
    }
    if (table !== null) {
      if (count === ids.length) ids = grown(ids);
      ids[count] = table.intern(start, i - start, h);
    }
    count++;
    chars += i - start;
  }
  if (table === null) return count;
  return { ids: ids.subarray(0, count), vocab: table.words(), chars, noSpaceScript: false };
}

function internWords(words: readonly string[], noSpaceScript: boolean): WordIndex {
  const byWord = new Map<string, number>();
  const vocab: string[] = [];
  const ids = new Int32Array(words.length);
  let chars = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    let id = byWord.get(w);
    if (id === undefined) {
      vocab.push(w);
      byWord.set(w, (id = vocab.length));
    }
    ids[i] = id;
    chars += w.length;
  }
  return { ids, vocab, chars, noSpaceScript };
}

/** Distinct substrings of one text, by (start, length), numbered from 1 in order of first interning. */
class Interner {
  private slots = new Int32Array(1024); // id, 0 = empty
  private hashes = new Int32Array(1024);
  private starts = new Int32Array(64);
  private lengths = new Int32Array(64);
  private size = 0;

  constructor(private readonly text: string) {}

  intern(start: number, length: number, hash: number): number {
    if (2 * (this.size + 1) > this.slots.length) this.grow();
    const { text, slots, hashes, starts, lengths } = this;
    const mask = slots.length - 1;
    let slot = (hash ^ (hash >>> 15)) & mask;
    for (;;) {
      const id = slots[slot]!;
      if (id === 0) break;
      if (hashes[slot] === hash && lengths[id - 1] === length && same(text, starts[id - 1]!, start, length)) return id;
      slot = (slot + 1) & mask;
    }
    const id = ++this.size;
    if (id > starts.length) {
      this.starts = grown(starts);
      this.lengths = grown(lengths);
    }
    this.starts[id - 1] = start;
    this.lengths[id - 1] = length;
    slots[slot] = id;
    hashes[slot] = hash;
    return id;
  }

  words(): string[] {
    const out = new Array<string>(this.size);
    for (let k = 0; k < this.size; k++) out[k] = this.text.slice(this.starts[k]!, this.starts[k]! + this.lengths[k]!);
    return out;
  }

  private grow(): void {
    const old = this.slots;
    const oldHashes = this.hashes;
    this.slots = new Int32Array(old.length * 2);
    this.hashes = new Int32Array(old.length * 2);
    const mask = this.slots.length - 1;
    for (let s = 0; s < old.length; s++) {
      const id = old[s]!;
      if (id === 0) continue;
      const hash = oldHashes[s]!;
      let slot = (hash ^ (hash >>> 15)) & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = id;
      this.hashes[slot] = hash;
    }
  }
}

function grown(a: Int32Array): Int32Array<ArrayBuffer> {
  const b = new Int32Array(a.length * 2);
  b.set(a);
  return b;
}

function same(text: string, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (text.charCodeAt(a + k) !== text.charCodeAt(b + k)) return false;
  return true;
}
