/**
 * A shard's documents as map counted them, so that apply scores them without splitting their text
 * again: one record per document that is not code, in the shard's order, of 32-bit integers
 *   [hash of the id, word count, distinct words k, k word ids, k counts]
 * (k = 0 for a document too short to score; ids number the words of the document's language in
 * the shard's `words` file). Little-endian, as Int32Array on every platform Node runs on here.
 * Written and read in 4 MB chunks, so memory does not grow with the shard.
 */
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { tempNameFor } from '../../pipeline/io/atomic.ts';
import type { Bag } from './distribution.ts';

const CHUNK = 1 << 20; // int32s

export interface BagRecord {
  idHash: number;
  words: number;
  /** views into the reader's buffer, valid until the next call to `take` */
  bag: Bag;
}

export class BagFileWriter {
  private buf = new Int32Array(CHUNK);
  private used = 0;

  private constructor(
    private readonly path: string,
    private readonly tmp: string,
    private readonly fd: number,
  ) {}

  static async open(path: string): Promise<BagFileWriter> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = tempNameFor(path);
    return new BagFileWriter(path, tmp, openSync(tmp, 'w'));
  }

  write(idHash: number, words: number, bag: Bag | null): void {
    const k = bag === null ? 0 : bag.ids.length;
    const need = 3 + 2 * k;
    if (this.used + need > this.buf.length) {
      this.flush();
      if (need > this.buf.length) this.buf = new Int32Array(need);
    }
    const b = this.buf;
    b[this.used++] = idHash | 0;
    b[this.used++] = words;
    b[this.used++] = k;
    if (bag !== null) {
      b.set(bag.ids, this.used);
      b.set(bag.counts, this.used + k);
      this.used += 2 * k;
    }
  }

  private flush(): void {
    let off = 0;
    const bytes = new Uint8Array(this.buf.buffer, 0, this.used * 4);
    while (off < bytes.length) off += writeSync(this.fd, bytes, off);
    this.used = 0;
  }

  close(): void {
    try {
      this.flush();
      fsyncSync(this.fd);
    } finally {
      closeSync(this.fd);
    }
    renameSync(this.tmp, this.path);
  }

  abort(): void {
    closeSync(this.fd);
    rmSync(this.tmp, { force: true });
  }
}

export class BagFileReader {
  private buf = new Int32Array(CHUNK);
  /** ints of `buf` holding data, and the read position in them */
  private end = 0;
  private pos = 0;
  private eof = false;

  private fd: number | null;

  constructor(fd: number) {
    this.fd = fd;
  }

  static open(path: string): BagFileReader | null {
    try {
      return new BagFileReader(openSync(path, 'r'));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
  }

  /** Ensures `n` ints from `pos` are in the buffer; false at the end of the file. */
  private fill(n: number): boolean {
    if (this.end - this.pos >= n) return true;
    if (this.eof) return false;
    const rest = this.buf.subarray(this.pos, this.end);
    if (n > this.buf.length) {
      const b = new Int32Array(n);
      b.set(rest);
      this.buf = b;
    } else this.buf.copyWithin(0, this.pos, this.end);
    this.end = rest.length;
    this.pos = 0;
    const bytes = new Uint8Array(this.buf.buffer);
    while (this.end < n && !this.eof) {
      const got = readSync(this.fd!, bytes, this.end * 4, (this.buf.length - this.end) * 4, null);
      if (got === 0) {
        this.eof = true;
        this.close();
      }
      this.end += got / 4; // records are whole int32s and reads come in multiples of 4 on a regular file
    }
    return this.end - this.pos >= n;
  }

  /** The next record if its id hash is `idHash` (and moves past it), else null (and stays). */
  take(idHash: number): BagRecord | null {
    if (!this.fill(3) || this.buf[this.pos] !== (idHash | 0)) return null;
    const k = this.buf[this.pos + 2]!;
    if (!this.fill(3 + 2 * k)) return null;
    const start = this.pos + 3;
    const rec = { idHash, words: this.buf[this.pos + 1]!, bag: { ids: this.buf.subarray(start, start + k), counts: this.buf.subarray(start + k, start + 2 * k) } };
    this.pos = start + 2 * k;
    return rec;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
