/**
 * Global shuffle in two passes, so that no task holds the corpus and none keeps many files open.
 * Every document copy gets a key, sha256(seed, input shard, position, copy): 12 bytes of it sort,
 * 4 more pick one of B buckets. The keys depend only on the seed and the input, never on workers.
 *
 * Map (one task per input shard): rows are appended, encoded, to a scratch file in arrival order,
 * with 16 bytes per row in memory (bucket, offset, length); at the end they are copied bucket by
 * bucket into ONE spill file per input shard, `<work>/spill/shard-<i>.bin`:
 *
 *   bytes 0..7   "RFSPILL1"
 *   bytes 8..11  B (uint32 LE), 12..15 zero
 *   16 + 8·b     offset of bucket b's region (uint64 LE), for b = 0..B (the last is the file size)
 *   regions      bucket 0's rows, bucket 1's rows, ... each row encoded by `encodeRow`
 *
 * Reduce (one task per bucket b): reads region b of every shard's spill file, one file open at a
 * time, sorts the rows by key. A map task keeps two files open, a reduce task one, whatever B.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { tempNameFor } from '../../pipeline/io/atomic.ts';
import { RefineryError } from '../../pipeline/errors.ts';
import { shardNumber } from './shard-sink.ts';
import type { DocumentRow } from './token-rows.ts';
import type { RunFiles } from '../../pipeline/run-folder/files.ts';

const MAGIC = Buffer.from('RFSPILL1', 'latin1');
const HEADER_BYTES = 16;
/** Bytes buffered before a write, and the most bytes read by one coalesced read. */
const IO_BYTES = 1 << 20;
const KEY_BYTES = 12;
const NULL_STRING = 0xffffffff;

export interface KeyedRow {
  key: string;
  row: DocumentRow;
}

export function shuffleKey(seed: number, shard: number, position: number, copy: number): { key: Buffer; bucketHash: number } {
  const digest = createHash('sha256').update(`${seed}\u0000${shard}\u0000${position}\u0000${copy}`).digest();
  return { key: digest.subarray(0, KEY_BYTES), bucketHash: digest.readUInt32BE(KEY_BYTES) };
}

export function spillPath(workDir: string, shard: number): string {
  return join(workDir, 'spill', `shard-${shardNumber(shard)}.bin`);
}

function stringBytes(s: string | null): number {
  return 4 + (s === null ? 0 : Buffer.byteLength(s, 'utf8'));
}

/** key (12 B), token count (u32) and tokens (i32), id, source, language, category, quality_band (u32 length or 0xFFFFFFFF for null, UTF-8), quality (u8 present, f64). */
export function encodeRow(key: Uint8Array, row: DocumentRow): Buffer {
  const strings = [row.id, row.source, row.language, row.category, row.quality_band];
  let size = KEY_BYTES + 4 + row.tokens.length * 4 + 9;
  for (const s of strings) size += stringBytes(s);
  const buf = Buffer.allocUnsafe(size);
  buf.set(key, 0);
  let at = KEY_BYTES;
  at = buf.writeUInt32LE(row.tokens.length, at);
  buf.set(new Uint8Array(row.tokens.buffer, row.tokens.byteOffset, row.tokens.byteLength), at);
  at += row.tokens.byteLength;
  for (const s of strings) {
    if (s === null) at = buf.writeUInt32LE(NULL_STRING, at);
    else {
      const n = buf.write(s, at + 4, 'utf8');
      buf.writeUInt32LE(n, at);
      at += 4 + n;
    }
  }
  at = buf.writeUInt8(row.quality === null ? 0 : 1, at);
  buf.writeDoubleLE(row.quality ?? 0, at);
  return buf;
}

/** Decodes the rows of one region; the tokens are copied out, so the region can be released. */
export function decodeRows(region: Buffer, into: KeyedRow[]): void {
  let at = 0;
  const str = (): string | null => {
    const n = region.readUInt32LE(at);
    at += 4;
    if (n === NULL_STRING) return null;
    const s = region.toString('utf8', at, at + n);
    at += n;
    return s;
  };
  while (at < region.length) {
    const key = region.toString('hex', at, at + KEY_BYTES);
    at += KEY_BYTES;
    const count = region.readUInt32LE(at);
    at += 4;
    const tokens = new Int32Array(count);
    region.copy(new Uint8Array(tokens.buffer), 0, at, at + count * 4);
    at += count * 4;
    const id = str()!;
    const source = str();
    const language = str();
    const category = str();
    const quality_band = str();
    const hasQuality = region.readUInt8(at) === 1;
    const quality = hasQuality ? region.readDoubleLE(at + 1) : null;
    at += 9;
    into.push({ key, row: { id, tokens, source, language, category, quality, quality_band } });
  }
}

/** A growable typed array of row index entries. */
class Column<T extends Uint32Array | Float64Array> {
  length = 0;
  constructor(public data: T) {}
  push(v: number): void {
    if (this.length === this.data.length) {
      const bigger = new (this.data.constructor as new (n: number) => T)(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    this.data[this.length++] = v;
  }
}

/** Sequential writes through a buffer of IO_BYTES. */
class BufferedFile {
  private readonly buf = Buffer.allocUnsafe(IO_BYTES);
  private used = 0;
  position = 0;
  constructor(readonly handle: FileHandle) {}

  /** Where the next byte written will be in the file. */
  get end(): number {
    return this.position + this.used;
  }

  async write(data: Uint8Array): Promise<void> {
    if (this.used + data.length > IO_BYTES) await this.flush();
    if (data.length >= IO_BYTES) {
      await this.handle.write(data, 0, data.length, this.position);
      this.position += data.length;
      return;
    }
    this.buf.set(data, this.used);
    this.used += data.length;
  }

  async flush(): Promise<void> {
    if (this.used === 0) return;
    await this.handle.write(this.buf, 0, this.used, this.position);
    this.position += this.used;
    this.used = 0;
  }
}

/** The map side: one input shard's keyed rows into its spill file, a region per bucket. */
export class ShuffleSpill {
  private readonly buckets = new Column(new Uint32Array(1024));
  private readonly offsets = new Column(new Float64Array(1024));
  private readonly lengths = new Column(new Uint32Array(1024));
  private readonly scratchPath: string;
  private scratch: BufferedFile | null = null;
  private outTemp: string | null = null;

  constructor(
    private readonly workDir: string,
    private readonly shard: number,
    private readonly seed: number,
    private readonly bucketCount: number,
  ) {
    this.scratchPath = tempNameFor(join(workDir, 'spill', `shard-${shardNumber(shard)}.rows`));
  }

  async add(position: number, copy: number, row: DocumentRow): Promise<void> {
    if (!this.scratch) {
      await mkdir(dirname(this.scratchPath), { recursive: true });
      this.scratch = new BufferedFile(await open(this.scratchPath, 'w+'));
    }
    const { key, bucketHash } = shuffleKey(this.seed, this.shard, position, copy);
    const bytes = encodeRow(key, row);
    this.buckets.push(bucketHash % this.bucketCount);
    this.offsets.push(this.scratch.end);
    this.lengths.push(bytes.length);
    await this.scratch.write(bytes);
  }

  /** Copies the rows into the spill file bucket by bucket (in arrival order within a bucket). */
  async finish(): Promise<void> {
    const B = this.bucketCount;
    const n = this.buckets.length;
    const bucket = this.buckets.data;
    const length = this.lengths.data;
    const offset = this.offsets.data;
    const regionBytes = new Float64Array(B);
    const rowsIn = new Uint32Array(B + 1);
    for (let i = 0; i < n; i++) {
      regionBytes[bucket[i]!]! += length[i]!;
      rowsIn[bucket[i]! + 1]!++;
    }
    for (let b = 0; b < B; b++) rowsIn[b + 1]! += rowsIn[b]!;
    const order = new Uint32Array(n);
    const next = rowsIn.slice(0, B);
    for (let i = 0; i < n; i++) order[next[bucket[i]!]!++] = i;

    const header = Buffer.alloc(HEADER_BYTES + 8 * (B + 1));
    MAGIC.copy(header, 0);
    header.writeUInt32LE(B, 8);
    let at = header.length;
    for (let b = 0; b <= B; b++) {
      header.writeBigUInt64LE(BigInt(at), HEADER_BYTES + 8 * b);
      if (b < B) at += regionBytes[b]!;
    }

    const path = spillPath(this.workDir, this.shard);
    await mkdir(dirname(path), { recursive: true });
    this.outTemp = tempNameFor(path);
    const out = new BufferedFile(await open(this.outTemp, 'w'));
    try {
      await out.write(header);
      if (this.scratch) await this.scratch.flush();
      const readBuf = Buffer.allocUnsafe(IO_BYTES);
      // Consecutive rows of a bucket that are adjacent in the scratch file are read in one call.
      let i = 0;
      while (i < n) {
        const start = offset[order[i]!]!;
        let end = start + length[order[i]!]!;
        let j = i + 1;
        while (j < n && offset[order[j]!] === end && end - start + length[order[j]!]! <= IO_BYTES) end += length[order[j++]!]!;
        const size = end - start;
        const buf = size <= IO_BYTES ? readBuf : Buffer.allocUnsafe(size);
        await readExactly(this.scratch!.handle, buf, size, start, this.scratchPath);
        await out.write(buf.subarray(0, size));
        i = j;
      }
      await out.flush();
      await out.handle.sync();
    } finally {
      await out.handle.close();
    }
    await rename(this.outTemp, path);
    this.outTemp = null;
    await this.closeScratch();
  }

  async abort(): Promise<void> {
    await this.closeScratch();
    if (this.outTemp) await rm(this.outTemp, { force: true });
    this.outTemp = null;
  }

  private async closeScratch(): Promise<void> {
    if (this.scratch) await this.scratch.handle.close().catch(() => {});
    this.scratch = null;
    await rm(this.scratchPath, { force: true });
  }
}

async function readExactly(handle: FileHandle, buf: Buffer, size: number, position: number, path: string): Promise<void> {
  let got = 0;
  while (got < size) {
    const { bytesRead } = await handle.read(buf, got, size - got, position + got);
    if (bytesRead === 0) throw new RefineryError(`${path}: ends at byte ${position + got}, expected ${size - got} more bytes (truncated spill file?)`);
    got += bytesRead;
  }
}

/**
 * The reduce side: the rows of one bucket from every input shard's spill file, in key order. Each
 * file is read by ranges (its header, the bucket's offsets, the bucket's rows), so a reducer on a
 * bucket fetches only its own rows.
 */
export async function readShuffleBucket(files: RunFiles, workDir: string, bucket: number, bucketCount: number, shardCount: number): Promise<DocumentRow[]> {
  const keyed: KeyedRow[] = [];
  for (let shard = 0; shard < shardCount; shard++) {
    const path = spillPath(workDir, shard);
    const exactly = async (start: number, size: number) => {
      const got = Buffer.from(await files.readRange(path, start, size));
      if (got.byteLength !== size) throw new RefineryError(`${path}: ends at byte ${start + got.byteLength}, expected ${size - got.byteLength} more bytes (truncated spill file?)`);
      return got;
    };
    const header = await exactly(0, HEADER_BYTES).catch((e: unknown) => {
      throw new RefineryError(`tokenize: cannot read ${path} (${(e as Error).message}): has the shuffle's map task of input shard ${shard} written it? (every worker must reach the same output)`);
    });
    if (!header.subarray(0, 8).equals(MAGIC)) throw new RefineryError(`tokenize: ${path} is not a spill file (no RFSPILL1 header)`);
    const written = header.readUInt32LE(8);
    if (written !== bucketCount) throw new RefineryError(`tokenize: ${path} has ${written} shuffle buckets, the stage has ${bucketCount}`);
    const entry = await exactly(HEADER_BYTES + 8 * bucket, 16);
    const start = Number(entry.readBigUInt64LE(0));
    const size = Number(entry.readBigUInt64LE(8)) - start;
    if (size === 0) continue;
    decodeRows(await exactly(start, size), keyed);
  }
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.row);
}
