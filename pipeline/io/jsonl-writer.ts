/**
 * A JSONL shard writer (plain, .gz or .zst by file name) that writes to a temporary name and
 * renames on `close()`, so a shard either exists whole or not at all.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough, type Transform } from 'node:stream';
import { compressionOf, createCompress } from './compression.ts';
import { tempNameFor } from './atomic.ts';

export class JsonlWriter {
  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly input: PassThrough,
    private readonly done: Promise<void>,
  ) {}

  count = 0;
  bytes = 0;

  static async open(path: string): Promise<JsonlWriter> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = tempNameFor(path);
    const input = new PassThrough({ highWaterMark: 1 << 20 });
    const compress: Transform | null = await createCompress(compressionOf(path));
    const out: WriteStream = createWriteStream(tmp);
    const done = compress ? pipeline(input, compress, out) : pipeline(input, out);
    return new JsonlWriter(path, tmp, input, done);
  }

  /** Resolves when the stream can take more (back-pressure). */
  async write(record: unknown): Promise<void> {
    const line = JSON.stringify(record) + '\n';
    this.count++;
    this.bytes += Buffer.byteLength(line);
    if (!this.input.write(line)) await new Promise<void>((r) => this.input.once('drain', r));
  }

  async close(): Promise<void> {
    this.input.end();
    await this.done;
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    this.input.destroy();
    await this.done.catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}
