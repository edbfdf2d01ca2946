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
import { syncFile, tempNameFor } from './atomic.ts';
import { RefineryError } from '../errors.ts';

const PENDING_CHARS = 1 << 16;

export class JsonlWriter {
  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly input: PassThrough,
    private readonly done: Promise<void>,
  ) {}

  /** Records written so far. */
  count = 0;

  /** Compressed as its name says (.gz, .zst, else plain). */
  static async open(path: string): Promise<JsonlWriter> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = tempNameFor(path);
    const input = new PassThrough({ highWaterMark: 1 << 20 });
    const compress: Transform | null = await createCompress(compressionOf(path));
    const out: WriteStream = createWriteStream(tmp);
    const done = compress ? pipeline(input, compress, out) : pipeline(input, out);
    const writer = new JsonlWriter(path, tmp, input, done);
    // A failed stream (disk full, file too large) must surface at the next write, not as an
    // unhandled rejection.
    done.catch((e: unknown) => {
      writer.failure = e instanceof Error ? e : new Error(String(e));
    });
    return writer;
  }

  private failure: Error | null = null;

  /** Lines not yet handed to the stream: one stream write per ~64 KB, not one per record. */
  private pending = '';

  /** Resolves when the stream can take more (back-pressure). */
  async write(record: unknown): Promise<void> {
    if (this.failure) throw this.writeError();
    this.pending += JSON.stringify(record) + '\n';
    this.count++;
    if (this.pending.length >= PENDING_CHARS) await this.flushPending();
  }

  private async flushPending(): Promise<void> {
    const chunk = this.pending;
    this.pending = '';
    if (chunk !== '' && !this.input.write(chunk)) {
      await Promise.race([new Promise<void>((r) => this.input.once('drain', r)), this.done.then(() => undefined, () => undefined)]);
      if (this.failure) throw this.writeError();
    }
  }

  private writeError(): Error {
    return new RefineryError(`cannot write ${this.path}: ${this.failure!.message}`);
  }

  /** Flushes, syncs to disk and renames into place. */
  async close(): Promise<void> {
    if (this.pending !== '' && !this.failure) this.input.write(this.pending);
    this.pending = '';
    this.input.end();
    await this.done.catch(() => undefined);
    if (this.failure) throw this.writeError();
    await syncFile(this.tmp);
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    this.pending = '';
    this.input.destroy();
    await this.done.catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}
