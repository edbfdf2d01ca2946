/**
 * A file of numbered regions, so that one task writes one file for every reader and each reader
 * reads only its region: a header of (regions + 1) little-endian float64 byte offsets, then the
 * regions back to back. Used for the cluster merge's edges and messages (one region per
 * destination partition).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { writeFileAtomic } from '../pipeline/io/atomic.ts';

export async function writeRegionFile(path: string, regions: Uint8Array[]): Promise<void> {
  const head = (regions.length + 1) * 8;
  const total = head + regions.reduce((a, r) => a + r.byteLength, 0);
  const out = new Uint8Array(total);
  const offsets = new Float64Array(regions.length + 1);
  let at = head;
  regions.forEach((r, i) => {
    offsets[i] = at;
    out.set(r, at);
    at += r.byteLength;
  });
  offsets[regions.length] = at;
  out.set(new Uint8Array(offsets.buffer), 0);
  await writeFileAtomic(path, out);
}

/**
 * The bytes of region `region` of a file of `regions` regions. Read synchronously: a region is
 * small and in the page cache, and each asynchronous call is a round trip through libuv's thread
 * pool (two thread wake-ups); the quickstart stages on bench/pipeline.bench.ts's input made ~20,000 such reads.
 */
export async function readRegion(path: string, regions: number, region: number): Promise<Uint8Array> {
  const fd = openSync(path, 'r');
  try {
    const head = new Float64Array(2);
    readFully(fd, new Uint8Array(head.buffer), region * 8);
    if (regions * 8 + 8 > fstatSync(fd).size) throw new Error(`${path}: not a file of ${regions} regions`);
    const out = new Uint8Array(head[1]! - head[0]!);
    readFully(fd, out, head[0]!);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Fills `out` from byte `position` of the file (a short read only at the end of the file). */
export function readFully(fd: number, out: Uint8Array, position: number): void {
  let got = 0;
  while (got < out.byteLength) {
    const n = readSync(fd, out, got, out.byteLength - got, position + got);
    if (n === 0) break;
    got += n;
  }
}

/** Region `region` of every file in `paths`, as one array of 32-bit words. */
export async function readWordRegions(paths: string[], regions: number, region: number): Promise<Uint32Array> {
  const parts = await Promise.all(paths.map((p) => readRegion(p, regions, region)));
  const out = new Uint32Array(parts.reduce((a, p) => a + p.byteLength, 0) / 4);
  const bytes = new Uint8Array(out.buffer);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** A growable array of 32-bit words. */
export class WordBuffer {
  words = new Uint32Array(64);
  length = 0;

  private room(n: number): Uint32Array {
    if (this.length + n > this.words.length) {
      const bigger = new Uint32Array(this.words.length * 2);
      bigger.set(this.words.subarray(0, this.length));
      this.words = bigger;
    }
    return this.words;
  }

  push2(a: number, b: number): void {
    const w = this.room(2);
    w[this.length] = a;
    w[this.length + 1] = b;
    this.length += 2;
  }

  push4(a: number, b: number, c: number, d: number): void {
    const w = this.room(4);
    w[this.length] = a;
    w[this.length + 1] = b;
    w[this.length + 2] = c;
    w[this.length + 3] = d;
    this.length += 4;
  }

  push6(a: number, b: number, c: number, d: number, e: number, f: number): void {
    const w = this.room(6);
    w[this.length] = a;
    w[this.length + 1] = b;
    w[this.length + 2] = c;
    w[this.length + 3] = d;
    w[this.length + 4] = e;
    w[this.length + 5] = f;
    this.length += 6;
  }

  bytes(): Uint8Array {
    return new Uint8Array(this.words.buffer, 0, this.length * 4);
  }
}
