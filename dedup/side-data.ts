/**
 * Per-shard side data that a reducer reads at random for the few documents it verifies
 * (shingle sets, normalised texts, embeddings): `<name>.bin` holds one blob per document in
 * input order, `<name>.idx` the byte offset of each blob (Float64, n + 1 entries). A reducer
 * reads two offsets and one blob per document it needs, never a whole shard.
 */
import { open, type FileHandle } from 'node:fs/promises';
import { writeFileAtomic } from '../pipeline/io/atomic.ts';

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

export class SideDataReader {
  private handles = new Map<number, { bin: FileHandle; idx: FileHandle }>();

  constructor(private readonly pathOf: (shard: number) => string) {}

  async get(shard: number, pos: number): Promise<Uint8Array> {
    let h = this.handles.get(shard);
    if (!h) {
      const base = this.pathOf(shard);
      h = { bin: await open(base + '.bin', 'r'), idx: await open(base + '.idx', 'r') };
      this.handles.set(shard, h);
    }
    const range = new Float64Array(2);
    await h.idx.read(new Uint8Array(range.buffer), 0, 16, pos * 8);
    const out = new Uint8Array(range[1] - range[0]);
    if (out.byteLength > 0) await h.bin.read(out, 0, out.byteLength, range[0]);
    return out;
  }

  async close(): Promise<void> {
    for (const h of this.handles.values()) {
      await h.bin.close();
      await h.idx.close();
    }
    this.handles.clear();
  }
}
