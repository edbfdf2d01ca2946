/**
 * The ids of pre-token pieces already encoded, keyed by the piece's text. An open-addressing
 * table that is probed with a range of the document text, so a hit (most pieces: the pipeline
 * bench's 9.1M pieces hold 355,000 distinct ones) allocates nothing, and reads about three cache
 * lines: the slot, the key's characters, the ids. When `entries` pieces are held, the table is
 * emptied and refills.
 */

/** FNV-1a over UTF-16 units; the caller hashes the range it looks up. */
export function pieceHash(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h;
}

/** Int32s per slot: hash, key length (0: empty slot), where the key's characters start, id count, the id or where the ids start. */
const SLOT = 5;

/** Longest key: pieces are cached up to this many UTF-16 units. */
export const MAX_PIECE_LENGTH = 32;

export class PieceCache {
  private readonly mask: number;
  private readonly slots: Int32Array;
  private chars = new Uint16Array(1 << 18);
  private charsUsed = 0;
  private ids = new Int32Array(1 << 16);
  private idsUsed = 0;
  private size = 0;

  constructor(private readonly entries: number) {
    let slots = 16;
    while (slots < entries * 2) slots *= 2;
    this.mask = slots - 1;
    this.slots = new Int32Array(slots * SLOT);
  }

  /** The slot holding `text[start, end)` (>= 0), or `~slot` of the empty slot where it would go. */
  find(text: string, start: number, end: number, hash: number): number {
    const length = end - start;
    const slots = this.slots;
    for (let slot = hash & this.mask; ; slot = (slot + 1) & this.mask) {
      const at = slot * SLOT;
      const keyLength = slots[at + 1]!;
      if (keyLength === 0) return ~slot;
      if (slots[at] !== hash || keyLength !== length) continue;
      const from = slots[at + 2]!;
      let i = 0;
      while (i < length && this.chars[from + i] === text.charCodeAt(start + i)) i++;
      if (i === length) return slot;
    }
  }

  /** Copies the ids in `slot` (from `find`) to `out` at `at`; returns the new end. */
  copy(slot: number, out: Int32Array, at: number): number {
    const s = slot * SLOT;
    const count = this.slots[s + 3]!;
    const value = this.slots[s + 4]!;
    if (count === 1) {
      out[at] = value;
      return at + 1;
    }
    for (let k = 0; k < count; k++) out[at + k] = this.ids[value + k]!;
    return at + count;
  }

  /** Remembers `ids[from, to)` as the ids of `text[start, end)` (at most MAX_PIECE_LENGTH units); `empty` is what `find` returned for it. */
  insert(empty: number, text: string, start: number, end: number, hash: number, ids: Int32Array, from: number, to: number): void {
    let slot = ~empty;
    const length = end - start;
    const count = to - from;
    if (this.size >= this.entries) {
      this.clear();
      slot = ~this.find(text, start, end, hash);
    }
    if (this.charsUsed + length > this.chars.length) {
      const grown = new Uint16Array(this.chars.length * 2);
      grown.set(this.chars.subarray(0, this.charsUsed));
      this.chars = grown;
    }
    const s = slot * SLOT;
    this.slots[s] = hash;
    this.slots[s + 1] = length;
    this.slots[s + 2] = this.charsUsed;
    for (let i = 0; i < length; i++) this.chars[this.charsUsed + i] = text.charCodeAt(start + i);
    this.charsUsed += length;
    this.slots[s + 3] = count;
    if (count === 1) this.slots[s + 4] = ids[from]!;
    else {
      if (this.idsUsed + count > this.ids.length) {
        const grown = new Int32Array(Math.max(this.ids.length * 2, this.idsUsed + count));
        grown.set(this.ids.subarray(0, this.idsUsed));
        this.ids = grown;
      }
      this.ids.set(ids.subarray(from, to), this.idsUsed);
      this.slots[s + 4] = this.idsUsed;
      this.idsUsed += count;
    }
    this.size++;
  }

  private clear(): void {
    this.slots.fill(0);
    this.charsUsed = 0;
    this.idsUsed = 0;
    this.size = 0;
  }
}
