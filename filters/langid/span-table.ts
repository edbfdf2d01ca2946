/**
 * The input rows of each token seen, looked up with a span of the text (start, end and the span's
 * hash) so that tokens are found without slicing them out of it. Keys (UTF-16 code units) and rows
 * live in two typed-array pools, so that a table of a few hundred thousand words is a handful of
 * objects for the garbage collector, and no key keeps a whole document's string alive.
 * Open addressing with linear probing over a fixed power-of-two number of slots.
 */

/** FNV-1a over UTF-16 code units: start from `SPAN_HASH_SEED`, fold in each unit with `spanHashStep`. */
export const SPAN_HASH_SEED = 2166136261 | 0;
export function spanHashStep(h: number, unit: number): number {
  return Math.imul(h ^ unit, 16777619);
}

export function spanHash(text: string, start = 0, end = text.length): number {
  let h = SPAN_HASH_SEED;
  for (let i = start; i < end; i++) h = spanHashStep(h, text.charCodeAt(i));
  return h;
}

/** The state to return to in `reset`: the slots and pool lengths after the permanent entries. */
interface Mark {
  slotKeyStart: Int32Array;
  size: number;
  keyEnd: number;
  rowEnd: number;
}

export class SpanTable {
  private readonly mask: number;
  private readonly hashes: Int32Array;
  /** Per slot: where its key starts in `keys` (-1: empty), its length, where its rows start in `rows`, how many. */
  private readonly keyStart: Int32Array;
  private readonly keyLength: Int32Array;
  private readonly rowStart: Int32Array;
  private readonly rowCount: Int32Array;
  private keys = new Uint16Array(1 << 16);
  private keyEnd = 0;
  /** The rows of every entry, one after the other. */
  rows = new Int32Array(1 << 16);
  private rowEnd = 0;
  private size = 0;
  private mark: Mark | undefined;

  /** `slots` is rounded up to a power of two; the table holds at most three quarters of it. */
  constructor(slots: number) {
    const n = 2 ** Math.ceil(Math.log2(Math.max(4, slots)));
    this.mask = n - 1;
    this.hashes = new Int32Array(n);
    this.keyStart = new Int32Array(n).fill(-1);
    this.keyLength = new Int32Array(n);
    this.rowStart = new Int32Array(n);
    this.rowCount = new Int32Array(n);
  }

  get full(): boolean {
    return this.size >= ((this.mask + 1) >> 2) * 3;
  }

  /** The slot of the key equal to `text[start, end)` (whose `spanHash` is `hash`), or -1. */
  find(text: string, start: number, end: number, hash: number): number {
    const len = end - start;
    const keys = this.keys;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = this.keyStart[slot]!;
      if (at < 0) return -1;
      if (this.hashes[slot] === hash && this.keyLength[slot] === len) {
        let i = 0;
        while (i < len && keys[at + i] === text.charCodeAt(start + i)) i++;
        if (i === len) return slot;
      }
    }
  }

  rowsStart(slot: number): number {
    return this.rowStart[slot]!;
  }
  rowsCount(slot: number): number {
    return this.rowCount[slot]!;
  }

  /** Adds `text[start, end)`, not in the table (the caller looked first), with its rows; returns its slot. */
  add(text: string, start: number, end: number, hash: number, rows: ArrayLike<number>): number {
    if (this.full) throw new RangeError('SpanTable is full');
    const len = end - start;
    if (this.keyEnd + len > this.keys.length) this.keys = grown(this.keys, this.keyEnd + len);
    for (let i = 0; i < len; i++) this.keys[this.keyEnd + i] = text.charCodeAt(start + i);
    if (this.rowEnd + rows.length > this.rows.length) this.rows = grown(this.rows, this.rowEnd + rows.length);
    this.rows.set(rows, this.rowEnd);
    let slot = hash & this.mask;
    while (this.keyStart[slot]! >= 0) slot = (slot + 1) & this.mask;
    this.hashes[slot] = hash;
    this.keyStart[slot] = this.keyEnd;
    this.keyLength[slot] = len;
    this.rowStart[slot] = this.rowEnd;
    this.rowCount[slot] = rows.length;
    this.keyEnd += len;
    this.rowEnd += rows.length;
    this.size++;
    return slot;
  }

  /** Makes the entries added so far permanent: `reset` forgets only those added after. */
  keep(): void {
    this.mark = { slotKeyStart: this.keyStart.slice(), size: this.size, keyEnd: this.keyEnd, rowEnd: this.rowEnd };
  }

  reset(): void {
    if (this.mark === undefined) throw new Error('SpanTable.reset before keep');
    // Slots filled after the mark are empty again; the others hold the same entries as then.
    this.keyStart.set(this.mark.slotKeyStart);
    this.size = this.mark.size;
    this.keyEnd = this.mark.keyEnd;
    this.rowEnd = this.mark.rowEnd;
  }
}

function grown<T extends Uint16Array | Int32Array>(array: T, needed: number): T {
  const out = new (array.constructor as new (n: number) => T)(Math.max(needed, 2 * array.length));
  out.set(array);
  return out;
}
