/**
 * The intermediate data of every dedup method: fixed-width records of six unsigned 32-bit words
 * `[keyHi, keyLo, rankHi, rankLo, shard, pos]`, kept in files sorted by all six words. `key` is
 * what makes documents candidates (a text hash, a band hash ...), `rank` orders the members of a
 * group (lower is preferred: kept), `(shard, pos)` names the document. Files are little-endian.
 */
import { writeFileAtomic } from '../pipeline/io/atomic.ts';
import { needAll, readRunFile, type RunFiles } from '../pipeline/run-folder/files.ts';

export const RECORD_WORDS = 6;

/** Word offsets of a record's fields. */
const KEY_HI = 0;
const KEY_LO = 1;
const RANK_HI = 2;
const RANK_LO = 3;
const SHARD = 4;
const POS = 5;

/** A document's address in a run: input shard and 0-based position in it. */
export interface DocRef {
  shard: number;
  pos: number;
}

/** Packs a ref into one exact JS number (valid while shard < 2^21). */
export function refKey(shard: number, pos: number): number {
  return shard * 0x1_0000_0000 + pos;
}

export function refOfKey(key: number): DocRef {
  return { shard: Math.floor(key / 0x1_0000_0000), pos: key % 0x1_0000_0000 };
}

/** A growable array of records. */
export class RecordBuffer {
  words = new Uint32Array(RECORD_WORDS * 256);
  length = 0;

  push(keyHi: number, keyLo: number, rankHi: number, rankLo: number, shard: number, pos: number): void {
    const at = this.length * RECORD_WORDS;
    if (at + RECORD_WORDS > this.words.length) {
      const bigger = new Uint32Array(this.words.length * 2);
      bigger.set(this.words);
      this.words = bigger;
    }
    const w = this.words;
    w[at + KEY_HI] = keyHi;
    w[at + KEY_LO] = keyLo;
    w[at + RANK_HI] = rankHi;
    w[at + RANK_LO] = rankLo;
    w[at + SHARD] = shard;
    w[at + POS] = pos;
    this.length++;
  }

  view(): Uint32Array {
    return this.words.subarray(0, this.length * RECORD_WORDS);
  }
}

/** Returns the records of `words` sorted lexicographically by their six words. */
export function sortRecords(words: Uint32Array): Uint32Array {
  const n = words.length / RECORD_WORDS;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => {
    const x = a * RECORD_WORDS;
    const y = b * RECORD_WORDS;
    for (let k = 0; k < RECORD_WORDS; k++) {
      const d = words[x + k]! - words[y + k]!;
      if (d !== 0) return d;
    }
    return 0;
  });
  const out = new Uint32Array(words.length);
  for (let i = 0; i < n; i++) out.set(words.subarray(order[i]! * RECORD_WORDS, order[i]! * RECORD_WORDS + RECORD_WORDS), i * RECORD_WORDS);
  return out;
}

export async function writeRecordFile(path: string, words: Uint32Array): Promise<void> {
  await writeFileAtomic(path, new Uint8Array(words.buffer, words.byteOffset, words.byteLength));
}

export async function readRecordFile(files: RunFiles, path: string): Promise<Uint32Array> {
  const buf = await readRunFile(files, path);
  if (buf.byteLength % (RECORD_WORDS * 4) !== 0) throw new Error(`${path}: truncated record file (${buf.byteLength} bytes)`);
  const copy = new Uint32Array(buf.byteLength / 4);
  new Uint8Array(copy.buffer).set(buf);
  return copy;
}

/** Sorted records with their fields by name; `i` is a record's index, not a word offset. */
export class Records {
  readonly count: number;

  constructor(readonly words: Uint32Array) {
    this.count = words.length / RECORD_WORDS;
  }

  keyHi(i: number): number {
    return this.words[i * RECORD_WORDS + KEY_HI]!;
  }

  keyLo(i: number): number {
    return this.words[i * RECORD_WORDS + KEY_LO]!;
  }

  rankHi(i: number): number {
    return this.words[i * RECORD_WORDS + RANK_HI]!;
  }

  rankLo(i: number): number {
    return this.words[i * RECORD_WORDS + RANK_LO]!;
  }

  shard(i: number): number {
    return this.words[i * RECORD_WORDS + SHARD]!;
  }

  pos(i: number): number {
    return this.words[i * RECORD_WORDS + POS]!;
  }

  /** The document of record `i`, packed by `refKey`. */
  ref(i: number): number {
    return refKey(this.shard(i), this.pos(i));
  }

  /** Each run of records with equal keys, as `[start, end)`, in order. */
  *keyGroups(): Generator<[start: number, end: number]> {
    let start = 0;
    while (start < this.count) {
      let end = start + 1;
      while (end < this.count && this.keyHi(end) === this.keyHi(start) && this.keyLo(end) === this.keyLo(start)) end++;
      yield [start, end];
      start = end;
    }
  }
}

/** Reads record files (e.g. one partition's files from every shard) into one sorted set. */
export async function readSortedRecords(files: RunFiles, paths: string[]): Promise<Records> {
  await needAll(files, paths);
  const parts: Uint32Array[] = [];
  for (const p of paths) parts.push(await readRecordFile(files, p));
  return new Records(sortRecords(concatRecords(parts)));
}

/** Concatenates record arrays (e.g. one partition's files from every shard). */
export function concatRecords(parts: Uint32Array[]): Uint32Array {
  const out = new Uint32Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** One RecordBuffer per partition; the partition of a record is `keyHi mod partitions`. */
export class PartitionedRecords {
  readonly parts: RecordBuffer[];

  constructor(readonly partitions: number) {
    this.parts = Array.from({ length: partitions }, () => new RecordBuffer());
  }

  push(keyHi: number, keyLo: number, rankHi: number, rankLo: number, shard: number, pos: number): void {
    this.parts[keyHi % this.partitions]!.push(keyHi, keyLo, rankHi, rankLo, shard, pos);
  }
}
