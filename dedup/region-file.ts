/**
 * A file of numbered regions, so that one task writes one file for every reader and each reader
 * reads only its region: a header of (regions + 1) little-endian float64 byte offsets, then the
 * regions back to back. Used for the cluster merge's edges and messages (one region per
 * destination partition).
 */
import { readSync } from 'node:fs';
import { writeFileAtomic } from '../pipeline/io/atomic.ts';
import type { RunFiles } from '../pipeline/run-folder/files.ts';

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
 * The bytes of region `region` of a file of `regions` regions: two range reads of the run's file
 * (its two offsets, then the region), so a reader on a bucket fetches only its region.
 */
export async function readRegion(files: RunFiles, path: string, regions: number, region: number): Promise<Uint8Array> {
  const headBytes = await files.readRange(path, region * 8, 16);
  if (headBytes.byteLength < 16 || region >= regions) throw new Error(`${path}: not a file of ${regions} regions`);
  const head = new Float64Array(headBytes.slice().buffer);
  if (head[0]! < (regions + 1) * 8 || head[1]! < head[0]!) throw new Error(`${path}: not a file of ${regions} regions`);
  return head[1] === head[0] ? new Uint8Array(0) : files.readRange(path, head[0]!, head[1]! - head[0]!);
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
export async function readWordRegions(files: RunFiles, paths: string[], regions: number, region: number): Promise<Uint32Array> {
  const parts = await Promise.all(paths.map((p) => readRegion(files, p, regions, region)));
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
