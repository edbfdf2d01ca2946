/**
 * Streams Arrow tables into one Parquet file with parquet-wasm (Rust arrow-rs writer), zstd,
 * one row group per record batch (tables built from single vectors have one). `write` returns once the table's row group is in the file, so
 * memory stays at about one row group and `bytesWritten` is exact (and the same on every run)
 * between writes. The file is written under a temporary name and renamed into place on `close`
 * (a reader never sees a half-written shard).
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { tableToIPC, type Table } from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { tempNameFor } from '../io/atomic.ts';

export interface WrittenFile {
  path: string;
  bytes: number;
  sha256: string;
}

export interface ParquetStreamWriterOptions {
  /** Parquet key-value metadata. Give at most one key: parquet-wasm writes several in random order. */
  metadata?: Record<string, string>;
}

export class ParquetStreamWriter {
  private controller!: ReadableStreamDefaultController<parquet.RecordBatch>;
  private readonly done: Promise<void>;
  private bytes = 0;
  private readonly hash = createHash('sha256');
  private failure: unknown;
  private batches = 0;
  /** Encoded chunks written to the file: parquet-wasm emits one per row group. */
  private chunks = 0;
  private wake: (() => void) | null = null;

  private constructor(
    readonly path: string,
    private readonly tmp: string,
    private readonly file: FileHandle,
    options: ParquetStreamWriterOptions,
  ) {
    const input = new ReadableStream<parquet.RecordBatch>(
      { start: (c) => void (this.controller = c) },
      { highWaterMark: 1 },
    );
    let props = new parquet.WriterPropertiesBuilder()
      .setCompression(parquet.Compression.ZSTD)
      // 1 byte: the writer closes a row group after every table, so callers size row groups
      .setMaxRowGroupBytes(1)
      .setCreatedBy('refinery (parquet-wasm)');
    if (options.metadata) props = props.setKeyValueMetadata(new Map(Object.entries(options.metadata)));
    this.done = parquet.transformParquetStream(input, props.build()).then(async (output) => {
      for await (const chunk of output as unknown as AsyncIterable<Uint8Array>) {
        this.hash.update(chunk);
        this.bytes += chunk.length;
        await this.file.write(chunk);
        this.chunks++;
        this.wake?.();
      }
    });
    this.done.catch((e: unknown) => {
      this.failure = e;
      this.wake?.();
    });
  }

  static async open(path: string, options: ParquetStreamWriterOptions): Promise<ParquetStreamWriter> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = tempNameFor(path);
    return new ParquetStreamWriter(path, tmp, await open(tmp, 'w'), options);
  }

  async write(table: Table): Promise<void> {
    if (this.failure) throw this.failure;
    if (table.numRows === 0) return;
    const wasmTable = parquet.Table.fromIPCStream(tableToIPC(table, 'stream'));
    // Tables built from single vectors have one record batch; each batch becomes a row group.
    for (const batch of wasmTable.recordBatches()) {
      this.controller.enqueue(batch);
      this.batches++;
    }
    wasmTable.free();
    // parquet-wasm's stream makes progress without holding the event loop open: hold it here.
    const keepAlive = setInterval(() => undefined, 60_000);
    try {
      while (this.chunks < this.batches && !this.failure) await new Promise<void>((r) => (this.wake = r));
    } finally {
      clearInterval(keepAlive);
      this.wake = null;
    }
    if (this.failure) throw this.failure;
  }

  /** Bytes in the file so far: every row group written. */
  get bytesWritten(): number {
    return this.bytes;
  }

  async close(): Promise<WrittenFile> {
    this.controller.close();
    try {
      await this.done;
      await this.file.close();
      await rename(this.tmp, this.path);
    } catch (e) {
      await this.file.close().catch(() => undefined);
      await rm(this.tmp, { force: true });
      throw e;
    }
    return { path: this.path, bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  /** Abandons the file (after an error elsewhere). */
  async abort(): Promise<void> {
    try {
      this.controller.error(new Error('aborted'));
    } catch {
      // already closed
    }
    await this.done.catch(() => undefined);
    await this.file.close().catch(() => undefined);
    await rm(this.tmp, { force: true });
  }
}

