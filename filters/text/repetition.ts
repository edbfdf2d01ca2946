/** Repetition measures over lines, paragraphs and word n-grams (Gopher, Rae et al. 2021, App. A). */

/** How many elements repeat an earlier one, and how many characters those repeats hold. */
export function duplicates(items: readonly string[]): { count: number; chars: number } {
  const seen = new Set<string>();
  let count = 0;
  let chars = 0;
  for (const item of items) {
    if (seen.has(item)) {
      count++;
      chars += item.length;
    } else seen.add(item);
  }
  return { count, chars };
}

/**
 * Word n-grams of one document, keyed by a 53-bit hash of their word ids instead of joined strings
 * (bench/filters.bench.ts: gopher-repetition went from 0.7 MB/s with string keys to the figure in
 * docs/filters.md). Two different n-grams share a key with probability about k²/2⁵⁴ for k n-grams:
 * under 10⁻⁶ for a 100,000-word document.
 */
export class WordNgrams {
  private readonly ids: Int32Array;
  /** prefix[i] = characters in words[0..i) */
  private readonly prefix: Float64Array;

  constructor(words: readonly string[]) {
    const vocab = new Map<string, number>();
    this.ids = new Int32Array(words.length);
    this.prefix = new Float64Array(words.length + 1);
    words.forEach((w, i) => {
      let id = vocab.get(w);
      if (id === undefined) vocab.set(w, (id = vocab.size + 1));
      this.ids[i] = id;
      this.prefix[i + 1] = this.prefix[i]! + w.length;
    });
  }

  private key(i: number, n: number): number {
    let h1 = 0x811c9dc5;
    let h2 = 0x2545f491;
    for (let k = i; k < i + n; k++) {
      const id = this.ids[k]!;
      h1 = Math.imul(h1 ^ id, 0x01000193);
      h2 = Math.imul(h2 ^ id, 0x5bd1e995);
      h2 ^= h2 >>> 15;
    }
    return (h1 >>> 0) * 0x200000 + ((h2 >>> 0) & 0x1fffff);
  }

  /**
   * Characters covered by the most frequent n-gram: its length with spaces, times its count; 0 when
   * no n-gram occurs twice.
   */
  topNgramChars(n: number): number {
    const counts = new Map<number, number>();
    let best = 0;
    for (let i = 0; i + n <= this.ids.length; i++) {
      const key = this.key(i, n);
      const c = (counts.get(key) ?? 0) + 1;
      counts.set(key, c);
      // Unlike DT's find_top_duplicate, an n-gram seen once is not repetition (else short texts fail).
      if (c < 2) continue;
      const covered = c * (this.prefix[i + n]! - this.prefix[i]! + n - 1);
      if (covered > best) best = covered;
    }
    return best;
  }

  /**
   * Characters (spaces not counted) in n-grams that repeat an earlier n-gram, scanning left to
   * right and jumping past a repeat so that no word is counted twice (the Gopher definition).
   */
  duplicateNgramChars(n: number): number {
    const seen = new Set<number>();
    let chars = 0;
    let i = 0;
    while (i + n <= this.ids.length) {
      const key = this.key(i, n);
      if (seen.has(key)) {
        chars += this.prefix[i + n]! - this.prefix[i]!;
        i += n;
      } else {
        seen.add(key);
        i++;
      }
    }
    return chars;
  }
}
