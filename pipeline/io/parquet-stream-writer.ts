/**
 * Streams Arrow tables into one Parquet file with parquet-wasm (Rust arrow-rs writer), zstd, one
 * row group per written table. `write` returns once the WASM writer has taken the table, so memory
 * stays at about one row group; encoded bytes go to a temporary file as they come, and the file is
 * renamed into place on `close` (a reader never sees a half-written shard). How far the encoder
 * has got at any moment depends on timing, so the size is only reported by `close`.
 */
import { createHash } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { tableToIPC, type Table } from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { tempNameFor } from './atomic.ts';

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
      // 1 byte: a row group ends after each table (tiny tables may share one): callers size them
      .setMaxRowGroupBytes(1)
      .setCreatedBy('refinery (parquet-wasm)');
    if (options.metadata) props = props.setKeyValueMetadata(new Map(Object.entries(options.metadata)));
    this.done = parquet.transformParquetStream(input, props.build()).then(async (output) => {
      for await (const chunk of output as unknown as AsyncIterable<Uint8Array>) {
        this.hash.update(chunk);
        this.bytes += chunk.length;
        await this.file.write(chunk);
      }
    });
    this.done.catch((e: unknown) => void (this.failure = e));
  }

  static async open(path: string, options: ParquetStreamWriterOptions): Promise<ParquetStreamWriter> {
    await mkdir(dirname(path), { recursive: true });
    const tmp = tempNameFor(path);
    return new ParquetStreamWriter(path, tmp, await open(tmp, 'w'), options);
  }

  /** `keepEmpty`: write a table that has no rows (a file of no documents still has its schema). */
  async write(table: Table, options: { keepEmpty?: boolean } = {}): Promise<void> {
    if (this.failure) throw this.failure;
    if (table.numRows === 0 && !options.keepEmpty) return;
    const wasmTable = parquet.Table.fromIPCStream(tableToIPC(table, 'stream'));
    for (const batch of wasmTable.recordBatches()) this.controller.enqueue(batch);
    wasmTable.free();
    // Wait until the writer has taken the table. (Polled: parquet-wasm's stream does not keep
    // Node's event loop alive by itself, so awaiting its progress alone can stall.)
    while ((this.controller.desiredSize ?? 1) <= 0 && !this.failure) await nextTurn();
    if (this.failure) throw this.failure;
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

