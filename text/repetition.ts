/** Repetition measures over lines, paragraphs and word n-grams (Gopher, Rae et al. 2021, App. A). */
import type { WordIndex } from './word-index.ts';

/**
 * How many elements repeat an earlier one, and how many characters those repeats hold (`length`
 * counts them: UTF-16 units by default).
 */
export function duplicates(items: readonly string[], length: (item: string) => number = (item) => item.length): { count: number; chars: number } {
  const seen = new Set<string>();
  let count = 0;
  let chars = 0;
  for (const item of items) {
    if (seen.has(item)) {
      count++;
      chars += length(item);
    } else seen.add(item);
  }
  return { count, chars };
}

/**
 * Word n-grams of one document, keyed by a 53-bit hash of their word ids instead of joined strings,
 * which would make a string per n-gram (bench/filters.bench.ts measures gopher-repetition, and
 * docs/filters.md gives its figure). Two different n-grams share a key with probability about k²/2⁵⁴ for k n-grams:
 * under 10⁻⁶ for a 100,000-word document.
 *
 * The key of the n-gram at i folds ids[i..i+n) into two 32-bit states; the states are kept and
 * extended by one word when the next n is asked for, so asking for n = 2, 3, ... 10 in turn costs
 * one step per position and n (not n steps). Keys are counted in an open-addressing table of
 * (state 1, low 21 bits of state 2), the two parts of the 53-bit key.
 *
 * Only candidates are hashed and counted: after `topNgramChars(n)` the positions whose n-gram
 * occurs once are dropped, since every longer n-gram starting there occurs once too, and an n-gram
 * that occurs once changes neither measure; before the 2-grams, positions whose word occurs once
 * are dropped the same way (counted by id). Prose has many n-grams that occur once, and this
 * neither hashes nor counts them again for longer n (bench/filters.bench.ts measures
 * gopher-repetition). Up to a key collision, which the keys already allow, the
 * measures are those of every position.
 */
export class WordNgrams {
  private readonly ids: Int32Array;
  /** prefix[i] = characters in words[0..i) */
  private readonly prefix: Float64Array;
  /** h1[p], h2[p]: hash states of ids[p..p+width) for each candidate p */
  private readonly h1: Int32Array;
  private readonly h2: Int32Array;
  private width = 0;
  /** Candidate positions, ascending: every position whose `pruned`-gram occurs at least twice. */
  private readonly candidates: Int32Array;
  private candidateCount = 0;
  private pruned = 0;
  private readonly vocabSize: number;

  /** The n-grams of `words`, or of the words of a `WordIndex` (the same ids either way). */
  constructor(words: readonly string[] | WordIndex) {
    if ('ids' in words) {
      const { ids, vocab } = words;
      const n = ids.length;
      this.ids = ids;
      this.vocabSize = vocab.length;
      this.prefix = new Float64Array(n + 1);
      for (let i = 0; i < n; i++) this.prefix[i + 1] = this.prefix[i]! + vocab[ids[i]! - 1]!.length;
    } else {
      const vocab = new Map<string, number>();
      const n = words.length;
      this.ids = new Int32Array(n);
      this.prefix = new Float64Array(n + 1);
      for (let i = 0; i < n; i++) {
        const w = words[i]!;
        let id = vocab.get(w);
        if (id === undefined) vocab.set(w, (id = vocab.size + 1));
        this.ids[i] = id;
        this.prefix[i + 1] = this.prefix[i]! + w.length;
      }
      this.vocabSize = vocab.size;
    }
    this.h1 = new Int32Array(this.ids.length);
    this.h2 = new Int32Array(this.ids.length);
    this.candidates = new Int32Array(this.ids.length);
  }

  /**
   * Brings the candidates' states to n-grams, with candidates that still hold every position whose
   * n-gram repeats; returns how many candidates start an n-gram (a prefix of the list).
   */
  private advanceTo(n: number): number {
    const { ids, h1, h2, candidates } = this;
    if (n < this.width || this.pruned > n || this.width === 0) {
      // Positions whose word occurs once start no repeated n-gram: counted by id, without hashing.
      const occurrences = new Int32Array(this.vocabSize + 1);
      for (let i = 0; i < ids.length; i++) occurrences[ids[i]!]!++;
      let kept = 0;
      for (let i = 0; i < ids.length; i++) if (occurrences[ids[i]!]! >= 2) candidates[kept++] = i;
      this.candidateCount = kept;
      this.pruned = 1;
      this.width = 0;
      h1.fill(0x811c9dc5 | 0);
      h2.fill(0x2545f491);
    }
    let count = this.candidateCount;
    for (let k = this.width; k < n; k++) {
      const last = ids.length - k - 1; // last position whose (k+1)-gram fits
      while (count > 0 && candidates[count - 1]! > last) count--;
      for (let c = 0; c < count; c++) {
        const i = candidates[c]!;
        const id = ids[i + k]!;
        h1[i] = Math.imul(h1[i]! ^ id, 0x01000193);
        const x = Math.imul(h2[i]! ^ id, 0x5bd1e995);
        h2[i] = x ^ (x >>> 15);
      }
    }
    this.candidateCount = count;
    this.width = n;
    return count;
  }

  /**
   * Characters covered by the most frequent n-gram: its length with spaces, times its count; 0 when
   * no n-gram occurs twice.
   */
  topNgramChars(n: number): number {
    if (this.ids.length - n + 1 <= 0) return 0;
    const count = this.advanceTo(n);
    const { candidates, h1, h2, prefix } = this;
    const table = KeyTable.shared(count);
    let best = 0;
    for (let c = 0; c < count; c++) {
      const i = candidates[c]!;
      const k = table.increment(h1[i]!, h2[i]! & 0x1fffff);
      // Unlike DT's find_top_duplicate, an n-gram seen once is not repetition (else short texts fail).
      if (k < 2) continue;
      const covered = k * (prefix[i + n]! - prefix[i]! + n - 1);
      if (covered > best) best = covered;
    }
    // Keep the positions whose n-gram repeats: the only ones that can start a repeated longer n-gram.
    let kept = 0;
    for (let c = 0; c < count; c++) {
      const i = candidates[c]!;
      if (table.get(h1[i]!, h2[i]! & 0x1fffff) >= 2) candidates[kept++] = i;
    }
    this.candidateCount = kept;
    this.pruned = n;
    return best;
  }

  /**
   * Characters (spaces not counted) in n-grams that repeat an earlier n-gram, scanning left to
   * right and jumping past a repeat so that no word is counted twice (the Gopher definition).
   * A position that is not a candidate starts an n-gram that occurs once: the scan would step past
   * it, and no later n-gram could repeat it.
   */
  duplicateNgramChars(n: number): number {
    if (this.ids.length - n + 1 <= 0) return 0;
    const count = this.advanceTo(n);
    const { candidates, h1, h2, prefix } = this;
    const table = KeyTable.shared(count);
    let chars = 0;
    let next = 0; // positions before this were jumped over
    for (let c = 0; c < count; c++) {
      const i = candidates[c]!;
      if (i < next) continue;
      if (table.increment(h1[i]!, h2[i]! & 0x1fffff) > 1) {
        chars += prefix[i + n]! - prefix[i]!;
        next = i + n;
      }
    }
    return chars;
  }
}

/**
 * Counts of (a, b) keys, b < 2²¹; linear probing. One table serves every call in turn (its arrays
 * grow and are cleared, not allocated per document and n, which would be a large part of the cost).
 */
const KEPT_SLOTS = 1 << 20;

class KeyTable {
  private static table: KeyTable | undefined;
  private a = new Int32Array(0);
  /** b + 1; 0 marks an empty slot */
  private b = new Int32Array(0);
  private counts = new Int32Array(0);
  private mask = 0;

  /** The shared table, emptied, for at most `capacity` distinct keys (a one-off table above 2²⁰ slots, 12 MB). */
  static shared(capacity: number): KeyTable {
    let size = 16;
    while (size < 2 * capacity) size *= 2;
    const t = size > KEPT_SLOTS ? new KeyTable() : (KeyTable.table ??= new KeyTable());
    if (size > t.b.length) {
      t.a = new Int32Array(size);
      t.b = new Int32Array(size);
      t.counts = new Int32Array(size);
    } else t.b.fill(0, 0, size);
    t.mask = size - 1;
    return t;
  }

  /** The first slot probed for (a, b). */
  private home(a: number, b: number): number {
    let x = a ^ Math.imul(b, 0x85ebca6b);
    x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
    return (x ^ (x >>> 15)) & this.mask;
  }

  /** The count of (a, b). */
  get(a: number, b: number): number {
    const tag = b + 1;
    let slot = this.home(a, b);
    for (;;) {
      const t = this.b[slot]!;
      if (t === 0) return 0;
      if (t === tag && this.a[slot] === a) return this.counts[slot]!;
      slot = (slot + 1) & this.mask;
    }
  }

  /** Adds one to the count of (a, b) and returns the new count. */
  increment(a: number, b: number): number {
    const tag = b + 1;
    let slot = this.home(a, b);
    for (;;) {
      const t = this.b[slot]!;
      if (t === 0) {
        this.a[slot] = a;
        this.b[slot] = tag;
        this.counts[slot] = 1;
        return 1;
      }
      if (t === tag && this.a[slot] === a) return ++this.counts[slot]!;
      slot = (slot + 1) & this.mask;
    }
  }
}
