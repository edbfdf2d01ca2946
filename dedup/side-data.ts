/**
 * Per-shard side data that a reducer reads at random for the few documents it verifies
 * (shingle sets, normalised texts, embeddings): `<name>.bin` holds one blob per document in
 * input order, `<name>.idx` the byte offset of each blob (Float64, n + 1 entries). A reducer
 * reads two offsets and one blob per document it needs, never a whole shard.
 */
import { closeSync, openSync } from 'node:fs';
import { writeFileAtomic } from '../pipeline/io/atomic.ts';
import { readFully } from './region-file.ts';
import type { RunFiles } from '../pipeline/run-folder/files.ts';

export class SideDataWriter {
  private chunks: Uint8Array[] = [];
  private offsets: number[] = [0];
  private at = 0;

  constructor(private readonly path: string) {}

  /** Appends the blob of the next document (empty when it has none). */
  add(blob: Uint8Array): void {
    this.chunks.push(blob);
    this.at += blob.byteLength;
    this.offsets.push(this.at);
  }

  async finish(): Promise<void> {
    const data = new Uint8Array(this.at);
    let o = 0;
    for (const c of this.chunks) {
      data.set(c, o);
      o += c.byteLength;
    }
    await writeFileAtomic(this.path + '.bin', data);
    await writeFileAtomic(this.path + '.idx', new Uint8Array(new Float64Array(this.offsets).buffer));
  }
}

/**
 * Reads synchronously (see readRegion): a blob is small and the reducer asks for many; the
 * asynchronous reads would cost two thread-pool round trips per document (tens of thousands in
 * semantic-dedup's reduce on the input of bench/pipeline.bench.ts).
 */
export class SideDataReader {
  private handles = new Map<number, { bin: number; idx: number }>();

  constructor(
    private readonly files: RunFiles,
    private readonly pathOf: (shard: number) => string,
  ) {}

  async get(shard: number, pos: number): Promise<Uint8Array> {
    let h = this.handles.get(shard);
    if (!h) {
      const base = this.pathOf(shard);
      // A shard's blobs are fetched whole the first time one is asked for: the reducer asks for many.
      for (const p of [base + '.bin', base + '.idx']) if (!(await this.files.need(p))) throw new Error(`${p}: missing from the run's storage`);
      h = { bin: openSync(base + '.bin', 'r'), idx: openSync(base + '.idx', 'r') };
      this.handles.set(shard, h);
    }
    const range = new Float64Array(2);
    readFully(h.idx, new Uint8Array(range.buffer), pos * 8);
    const out = new Uint8Array(range[1]! - range[0]!);
    if (out.byteLength > 0) readFully(h.bin, out, range[0]!);
    return out;
  }

  async close(): Promise<void> {
    for (const h of this.handles.values()) {
      closeSync(h.bin);
      closeSync(h.idx);
    }
    this.handles.clear();
  }
}
