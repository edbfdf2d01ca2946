/**
 * tiktoken's byte-pair encoding of one pre-token, in JavaScript: the same merge order as its Rust
 * `byte_pair_encode` (repeatedly merge the adjacent parts whose bytes form the lowest-ranked token,
 * the leftmost on a tie), so the ids are the same. Ranks are looked up by byte range in an
 * open-addressing table over the tokens' bytes, which allocates nothing: on the ~400,000 pieces
 * the pipeline bench's text misses the piece cache with, 0.9 s CPU against 1.7 s for tiktoken's
 * WASM and 2.6 s for a Map keyed by latin1 substrings (same run, same pieces;
 * bench/tokenizer.bench.ts compares the whole tokenizer with tiktoken's core).
 */

const NONE = 0x7fffffff;

/**
 * Pieces of more bytes than this are merged with a heap instead of tiktoken's scan of all parts per
 * merge, which is quadratic in the piece's length (a long run of CJK characters is one piece).
 */
const LONG_PIECE = 256;
/** Heap keys are rank * 2^21 + start: a piece's start fits in 21 bits (Meta's chunking caps runs at 25,000 code points). */
const POSITION = 2 ** 21;

/** FNV-1a over a byte range. */
function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  return h;
}

export class BytePairEncoder {
  /** Open addressing: id + 1 per slot (0: empty), and the slot's hash. */
  private readonly slots: Int32Array;
  private readonly slotHashes: Int32Array;
  private readonly mask: number;
  /** Rank of each two-byte token by its bytes (b0 << 8 | b1), NONE where there is none. */
  private readonly pairs = new Int32Array(1 << 16).fill(NONE);
  // Scratch, grown as needed: starts[i] is where part i begins; rank[i] the rank of parts i and i + 1 merged.
  private starts = new Int32Array(256);
  private rank = new Int32Array(256);

  /**
   * Ordinary token `id` (rank = id) is tokenBytes[offsets[id], offsets[id + 1]) (tokens end to end).
   */
  constructor(
    private readonly tokenBytes: Uint8Array,
    private readonly offsets: Int32Array,
  ) {
    const count = offsets.length - 1;
    let size = 16;
    while (size < count * 2) size *= 2;
    this.mask = size - 1;
    this.slots = new Int32Array(size);
    this.slotHashes = new Int32Array(size);
    for (let id = 0; id < count; id++) {
      const from = offsets[id]!;
      const to = offsets[id + 1]!;
      if (to - from === 2) this.pairs[(tokenBytes[from]! << 8) | tokenBytes[from + 1]!] = id;
      const hash = hashBytes(tokenBytes, from, to);
      let slot = hash & this.mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & this.mask;
      this.slots[slot] = id + 1;
      this.slotHashes[slot] = hash;
    }
  }

  /** Rank of the token whose bytes are bytes[start, end), or NONE. */
  private rankOf(bytes: Uint8Array, start: number, end: number): number {
    const length = end - start;
    if (length === 2) return this.pairs[(bytes[start]! << 8) | bytes[start + 1]!]!;
    const hash = hashBytes(bytes, start, end);
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const entry = this.slots[slot]!;
      if (entry === 0) return NONE;
      if (this.slotHashes[slot] !== hash) continue;
      const from = this.offsets[entry - 1]!;
      if (this.offsets[entry]! - from !== length) continue;
      let i = 0;
      while (i < length && this.tokenBytes[from + i] === bytes[start + i]) i++;
      if (i === length) return entry - 1;
    }
  }

  /** Appends the ids of bytes[0, n) (n >= 1) to `out` from `at`; returns the new end. */
  encode(bytes: Uint8Array, n: number, out: Int32Array, at: number): number {
    const whole = this.rankOf(bytes, 0, n);
    if (whole !== NONE) {
      out[at] = whole;
      return at + 1;
    }
    if (n > LONG_PIECE) return this.encodeLong(bytes, n, out, at);
    if (this.starts.length < n + 1) {
      this.starts = new Int32Array(2 * n + 2);
      this.rank = new Int32Array(2 * n + 2);
    }
    const starts = this.starts;
    const rank = this.rank;
    let parts = n + 1; // the last part is the end sentinel
    for (let i = 0; i <= n; i++) {
      starts[i] = i;
      rank[i] = i + 2 <= n ? this.pairs[(bytes[i]! << 8) | bytes[i + 1]!]! : NONE;
    }
    for (;;) {
      let min = NONE;
      let best = -1;
      for (let i = 0; i < parts - 1; i++) {
        if (rank[i]! < min) {
          min = rank[i]!;
          best = i;
        }
      }
      if (best < 0) break;
      // Ranks of the pairs that change, taken before part best + 1 is removed (as tiktoken does).
      if (best > 0) rank[best - 1] = best + 2 < parts ? this.rankOf(bytes, starts[best - 1]!, starts[best + 2]!) : NONE;
      rank[best] = best + 3 < parts ? this.rankOf(bytes, starts[best]!, starts[best + 3]!) : NONE;
      for (let i = best + 1; i < parts - 1; i++) {
        starts[i] = starts[i + 1]!;
        rank[i] = rank[i + 1]!;
      }
      parts--;
    }
    for (let i = 0; i < parts - 1; i++) {
      const id = this.rankOf(bytes, starts[i]!, starts[i + 1]!);
      if (id === NONE) throw new Error('byte-pair encoding: a part has no rank');
      out[at++] = id;
    }
    return at;
  }

  /**
   * The same merges as `encode`, in the same order: parts are a linked list keyed by their first
   * byte, and a min-heap of (rank, start) gives the lowest rank, the leftmost on a tie. Entries
   * left stale by a merge are skipped when popped.
   */
  private encodeLong(bytes: Uint8Array, n: number, out: Int32Array, at: number): number {
    if (n >= POSITION) throw new RangeError(`byte-pair encoding: a piece of ${n} bytes`);
    // next[i]: start of the part after the part starting at i (n: none); rank[i]: rank of that pair.
    const next = new Int32Array(n + 1);
    const prev = new Int32Array(n + 1);
    const rank = new Int32Array(n + 1);
    const heap = new Float64Array(3 * n); // n - 1 pairs, then at most 2 more per merge
    let size = 0;
    const push = (key: number): void => {
      let i = size++;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (heap[parent]! <= key) break;
        heap[i] = heap[parent]!;
        i = parent;
      }
      heap[i] = key;
    };
    const pop = (): number => {
      const top = heap[0]!;
      const last = heap[--size]!;
      let i = 0;
      for (;;) {
        let child = 2 * i + 1;
        if (child >= size) break;
        if (child + 1 < size && heap[child + 1]! < heap[child]!) child++;
        if (heap[child]! >= last) break;
        heap[i] = heap[child]!;
        i = child;
      }
      if (size > 0) heap[i] = last;
      return top;
    };
    for (let i = 0; i <= n; i++) {
      next[i] = i + 1;
      prev[i] = i - 1;
      rank[i] = i + 2 <= n ? this.pairs[(bytes[i]! << 8) | bytes[i + 1]!]! : NONE;
      if (rank[i] !== NONE) push(rank[i]! * POSITION + i);
    }
    while (size > 0) {
      const key = pop();
      const i = key % POSITION;
      const r = (key - i) / POSITION;
      if (rank[i] !== r) continue; // stale: the pair changed, or part i was merged away (rank NONE)
      const j = next[i]!; // merge part j into part i
      const after = next[j]!;
      next[i] = after;
      if (after <= n) prev[after] = i;
      rank[j] = NONE;
      rank[i] = after < n ? this.rankOf(bytes, i, next[after]!) : NONE;
      if (rank[i] !== NONE) push(rank[i]! * POSITION + i);
      const p = prev[i]!;
      if (p >= 0) {
        rank[p] = this.rankOf(bytes, p, after);
        if (rank[p] !== NONE) push(rank[p]! * POSITION + p);
      }
    }
    for (let i = 0; i < n; i = next[i]!) {
      const id = this.rankOf(bytes, i, next[i]!);
      if (id === NONE) throw new Error('byte-pair encoding: a part has no rank');
      out[at++] = id;
    }
    return at;
  }
}
