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

/**
 * Bytes of JSON lines gathered before one stream write. Each write reaches the compressor as one
 * chunk: for gzip a round trip to zlib's thread pool.
 */
const CHUNK_BYTES = 1 << 18;
/**
 * zstd output cuts a frame at the first chunk that takes it past 1 MiB (compression.ts), so its
 * bytes depend on where chunks end: a .zst writer hands a chunk to the stream after each line that
 * brings the characters gathered to 64 Ki, and nowhere else, which keeps the frames of every
 * .zst shard written so far.
 */
const ZSTD_CHUNK_CHARS = 1 << 16;
const NL = 0x0a;

export class JsonlWriter {
  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly input: PassThrough,
    private readonly done: Promise<void>,
    /** Characters per chunk when chunk ends must fall where they always have (zstd); else chunks end by bytes. */
    private readonly chunkChars: number | undefined,
  ) {}

  /** Records written so far. */
  count = 0;

  /** Compressed as its name says (.gz, .zst, else plain). */
  static async open(path: string): Promise<JsonlWriter> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = tempNameFor(path);
    const input = new PassThrough({ highWaterMark: 1 << 20 });
    const compression = compressionOf(path);
    const compress: Transform | null = await createCompress(compression);
    const out: WriteStream = createWriteStream(tmp);
    const done = compress ? pipeline(input, compress, out) : pipeline(input, out);
    const writer = new JsonlWriter(path, tmp, input, done, compression === 'zstd' ? ZSTD_CHUNK_CHARS : undefined);
    // A failed stream (disk full, file too large) must surface at the next write, not as an
    // unhandled rejection.
    done.catch((e: unknown) => {
      writer.failure = e instanceof Error ? e : new Error(String(e));
    });
    return writer;
  }

  private failure: Error | null = null;

  /**
   * Lines not yet handed to the stream, encoded as they come: each record's JSON string dies
   * young, where gathering strings and encoding them together would build ropes and a flattened
   * copy of each chunk, which V8 allocates in its old generation at this size.
   */
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  /** Characters of the lines in `chunk`. */
  private chars = 0;

  /**
   * Returns a promise only when the caller must wait for the stream to take more (back-pressure):
   * a task writes thousands of records between two waits, and awaiting each would cost a
   * microtask turn per record. A chunk ends before the line that would overflow it, or, when
   * chunks end by characters, after the line that brings them to `chunkChars`; a line longer than
   * a chunk grows it.
   */
  write(record: unknown): Promise<void> | undefined {
    if (this.failure) throw this.writeError();
    const line = JSON.stringify(record);
    this.count++;
    let room = true;
    // A UTF-16 code unit is at most 3 bytes of UTF-8.
    const need = 3 * line.length + 1;
    if (this.used + need > this.chunk.length) {
      if (this.chunkChars === undefined) room = this.flushChunk();
      if (this.used + need > this.chunk.length) {
        const grown = Buffer.allocUnsafe(Math.max(this.used + need, 2 * this.chunk.length));
        this.chunk.copy(grown, 0, 0, this.used);
        this.chunk = grown;
      }
    }
    this.encode(line);
    this.chars += line.length + 1;
    if (this.chunkChars !== undefined && this.chars >= this.chunkChars) room = this.flushChunk() && room;
    return room ? undefined : this.drained();
  }

  private encode(line: string): void {
    this.used += this.chunk.write(line, this.used, 'utf8');
    this.chunk[this.used++] = NL;
  }

  /** Hands the lines gathered to the stream; false when it asks the writer to wait. */
  private flushChunk(): boolean {
    if (this.used === 0) return true;
    const full = this.chunk.subarray(0, this.used);
    this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
    this.chars = 0;
    return this.input.write(full);
  }

  private async drained(): Promise<void> {
    await Promise.race([new Promise<void>((r) => this.input.once('drain', r)), this.done.then(() => undefined, () => undefined)]);
    if (this.failure) throw this.writeError();
  }

  private writeError(): Error {
    return new RefineryError(`cannot write ${this.path}: ${this.failure!.message}`);
  }

  /** Flushes, syncs to disk and renames into place. */
  async close(): Promise<void> {
    if (!this.failure && this.used > 0) this.input.write(this.chunk.subarray(0, this.used));
    this.input.end();
    await this.done.catch(() => undefined);
    if (this.failure) throw this.writeError();
    await syncFile(this.tmp);
    await rename(this.tmp, this.path);
  }

  async abort(): Promise<void> {
    this.used = 0;
    this.input.destroy();
    await this.done.catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}
