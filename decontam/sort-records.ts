/** Sorting and de-duplicating the ledger's records: [hashHi, hashLo, shard, pos] uint32 quadruples. */
import { RECORD_WORDS } from './ledger-files.ts';

/** A copy of `words` with its records sorted by all four words, equal records kept once. */
export function sortUniqueRecords(words: Uint32Array): Uint32Array {
  const count = words.length / RECORD_WORDS;
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  order.sort((x, y) => {
    for (let k = 0; k < RECORD_WORDS; k++) {
      const d = words[x * RECORD_WORDS + k]! - words[y * RECORD_WORDS + k]!;
      if (d !== 0) return d;
    }
    return 0;
  });
  const out = new Uint32Array(words.length);
  let n = 0;
  for (let r = 0; r < count; r++) {
    const from = order[r]! * RECORD_WORDS;
    if (n > 0 && [0, 1, 2, 3].every((k) => out[(n - 1) * RECORD_WORDS + k] === words[from + k])) continue;
    out.set(words.subarray(from, from + RECORD_WORDS), n * RECORD_WORDS);
    n++;
  }
  return out.slice(0, n * RECORD_WORDS);
}

/** A growable array of records, 16 bytes each (a JS number array would take twice that and more). */
export class RecordBuffer {
  private words = new Uint32Array(RECORD_WORDS * 1024);
  private length = 0;

  push(hi: number, lo: number, shard: number, pos: number): void {
    if (this.length + RECORD_WORDS > this.words.length) {
      const bigger = new Uint32Array(this.words.length * 2);
      bigger.set(this.words);
      this.words = bigger;
    }
    this.words[this.length++] = hi;
    this.words[this.length++] = lo;
    this.words[this.length++] = shard;
    this.words[this.length++] = pos;
  }

  view(): Uint32Array {
    return this.words.subarray(0, this.length);
  }
}

/** Concatenated record arrays. */
export function concatRecords(parts: readonly Uint32Array[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
