/**
 * Counts the matches of a word list in a text exactly as one alternation regex over the list would
 * (`/(?<![\p{L}\p{N}])(?:e1|e2|...)(?![\p{L}\p{N}])/giu`, entries escaped, each whitespace run of an
 * entry written `\s+`; without the lookarounds when `wholeWords` is false), but by walking a trie
 * from each position where a match may start, instead of trying every alternative there.
 *
 * What the regex engine decides, the trie reproduces:
 * - At one position the regex takes the first alternative that matches (lookahead included), not
 *   the longest: every trie node that ends an entry holds the smallest list index of the entries
 *   ending there, and the walk keeps the smallest index among the ends it reaches.
 * - `i` with `u` compares characters by Unicode simple case folding: characters are grouped into the
 *   classes the regex engine itself says are equal (`/^a$/iu.test(b)`), and trie edges are classes.
 * - `\s+` after an entry's character can only end where a non-space character follows (entries are
 *   trimmed and a space run is one `\s+`), so its greedy match is the only one.
 * - Positions and lookarounds are in code points, as under the `u` flag.
 */

/** Per BMP code unit, lazily: bit 1 known, bit 2 a letter or number, bit 4 `\s`. */
const BMP_KIND = new Uint8Array(0x10000);
const WORD_CHAR = /[\p{L}\p{N}]/u;
const SPACE_CHAR = /\s/u;

function kindOf(cp: number): number {
  if (cp > 0xffff) return WORD_CHAR.test(String.fromCodePoint(cp)) ? 3 : 1; // no `\s` is astral
  let k = BMP_KIND[cp]!;
  if (k === 0) {
    const c = String.fromCharCode(cp);
    k = 1 | (WORD_CHAR.test(c) ? 2 : 0) | (SPACE_CHAR.test(c) ? 4 : 0);
    BMP_KIND[cp] = k;
  }
  return k;
}

const isWordChar = (cp: number) => (kindOf(cp) & 2) !== 0;
const isSpace = (cp: number) => (kindOf(cp) & 4) !== 0;

/** No entry ends at a trie node: larger than any list index. */
const NO_END = 0x7fffffff;

const foldRegex = (cp: number) => new RegExp(`^\\u{${cp.toString(16)}}$`, 'iu');

export class WordListMatcher {
  /** Classes of the entries' characters, with one regex each that recognises the class. */
  private readonly classes: RegExp[] = [];
  /** Column of a `\s+` run in `next`; the classes take columns 0 .. classes - 1. */
  private readonly space: number;
  /** `next[node * width + column]`: the child node, 0 for none (the root is nobody's child). */
  private readonly next: Int32Array;
  private readonly width: number;
  private nodes = 1;
  /** Per trie node: the smallest list index of the entries ending there, NO_END for none. */
  private readonly ends: Int32Array;
  /** Per BMP code unit, lazily: 0 not yet known, 1 none of the entries' characters, else class + 2. */
  private readonly bmpClass = new Uint16Array(0x10000);
  private readonly astralClass = new Map<number, number>();
  private readonly anyEntryChar: RegExp;

  /** `entries`: in the alternation's order, each already lower-cased and trimmed, none empty. */
  constructor(entries: readonly string[], private readonly wholeWords: boolean) {
    const chars = new Set<number>();
    let size = 1;
    for (const e of entries) {
      for (const ch of e) if (!isSpace(ch.codePointAt(0)!)) chars.add(ch.codePointAt(0)!);
      size += e.length;
    }
    for (const cp of chars) {
      const s = String.fromCodePoint(cp);
      if (!this.classes.some((re) => re.test(s))) this.classes.push(foldRegex(cp));
    }
    this.anyEntryChar = new RegExp(`^[${[...chars].map((cp) => `\\u{${cp.toString(16)}}`).join('')}]$`, 'iu');
    this.space = this.classes.length;
    this.width = this.classes.length + 1;
    this.next = new Int32Array(size * this.width);
    this.ends = new Int32Array(size).fill(NO_END);
    entries.forEach((e, index) => {
      let node = 0;
      let inSpace = false;
      for (const ch of e) {
        const cp = ch.codePointAt(0)!;
        if (isSpace(cp)) {
          if (inSpace) continue;
          inSpace = true;
          node = this.child(node, this.space);
        } else {
          inSpace = false;
          node = this.child(node, this.classOf(cp));
        }
      }
      if (index < this.ends[node]!) this.ends[node] = index;
    });
  }

  private child(node: number, column: number): number {
    const at = node * this.width + column;
    if (this.next[at] === 0) {
      this.next[at] = this.nodes++;
    }
    return this.next[at]!;
  }

  /** Class of a code point, -1 for none of the entries' characters. */
  private classOf(cp: number): number {
    if (cp <= 0xffff) {
      const k = this.bmpClass[cp]!;
      if (k !== 0) return k - 2;
    } else {
      const k = this.astralClass.get(cp);
      if (k !== undefined) return k;
    }
    const s = String.fromCodePoint(cp);
    const c = this.anyEntryChar.test(s) ? this.classes.findIndex((re) => re.test(s)) : -1;
    if (cp <= 0xffff) this.bmpClass[cp] = c + 2;
    else this.astralClass.set(cp, c);
    return c;
  }

  /** Matches in `text`, left to right, each search resuming where the last match ended. */
  count(text: string): number {
    const len = text.length;
    const whole = this.wholeWords;
    const bmpClass = this.bmpClass;
    const next = this.next;
    let n = 0;
    let i = 0;
    // Whether the code point before `i` is a letter or number (the lookbehind fails there).
    let afterWordChar = false;
    while (i < len) {
      let cp = text.charCodeAt(i);
      let width = 1;
      if (cp >= 0xd800 && cp <= 0xdbff) {
        cp = text.codePointAt(i)!;
        if (cp > 0xffff) width = 2;
      }
      if (!(whole && afterWordChar)) {
        let c = cp <= 0xffff ? bmpClass[cp]! - 2 : -2;
        if (c === -2) c = this.classOf(cp);
        if (c !== -1 && next[c] !== 0) {
          const end = this.matchAt(text, i + width, next[c]!);
          if (end !== -1) {
            n++;
            i = end;
            afterWordChar = whole && isWordChar(codePointBefore(text, i));
            continue;
          }
        }
      }
      if (whole) {
        const k = cp <= 0xffff ? BMP_KIND[cp]! : 0;
        afterWordChar = ((k === 0 ? kindOf(cp) : k) & 2) !== 0;
      }
      i += width;
    }
    return n;
  }

  /** End of the match the regex would take whose first character ends at `j` and leads to `node`, or -1. */
  private matchAt(text: string, j: number, node: number): number {
    const len = text.length;
    const { ends, next, width, space, wholeWords } = this;
    let best = NO_END;
    let bestEnd = -1;
    for (;;) {
      const end = ends[node]!;
      if (j >= len) return end < best ? j : bestEnd;
      let cp = text.charCodeAt(j);
      if (cp >= 0xd800 && cp <= 0xdbff) cp = text.codePointAt(j)!;
      let kind = cp <= 0xffff ? BMP_KIND[cp]! : 0;
      if (kind === 0) kind = kindOf(cp);
      if (end < best && !(wholeWords && (kind & 2) !== 0)) {
        best = end;
        bestEnd = j;
      }
      let child: number;
      if ((kind & 4) !== 0) {
        child = next[node * width + space]!;
        if (child === 0) return bestEnd;
        do j++;
        while (j < len && isSpace(text.charCodeAt(j)));
      } else {
        const c = this.classOf(cp);
        child = c === -1 ? 0 : next[node * width + c]!;
        if (child === 0) return bestEnd;
        j += cp > 0xffff ? 2 : 1;
      }
      node = child;
    }
  }
}

function codePointBefore(text: string, i: number): number {
  const lo = text.charCodeAt(i - 1);
  if (lo >= 0xdc00 && lo <= 0xdfff && i >= 2) {
    const hi = text.charCodeAt(i - 2);
    if (hi >= 0xd800 && hi <= 0xdbff) return (hi - 0xd800) * 0x400 + (lo - 0xdc00) + 0x10000;
  }
  return lo;
}
