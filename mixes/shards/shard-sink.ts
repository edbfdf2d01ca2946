/**
 * Turns a stream of tokenized documents into numbered Parquet files `<prefix>-00000.parquet`,
 * `<prefix>-00001.parquet` ...: buffers rows up to one row group, streams row groups into the
 * current file and starts the next file once the current one reaches the target size.
 */
import { basename } from 'node:path';
import type { Table } from 'apache-arrow';
import { ParquetStreamWriter } from '../../pipeline/io/parquet-stream-writer.ts';
import { SequencePacker } from './sequence-packer.ts';
import { documentTable, packedTable, type DocumentRow, type PackedRow } from './token-rows.ts';

export interface ShardFileEntry {
  /** File name, relative to the manifest's folder. */
  file: string;
  rows: number;
  /** Documents (plan copies included) that start in this file: BOS tokens in its rows. */
  docs: number;
  tokens: number;
  /** Packed mode: rows shorter than `seq_len` (the tail of an input shard or shuffle bucket). */
  partial_rows: number;
  bytes: number;
  sha256: string;
}

export interface ShardSinkOptions {
  /** Path prefix of the files, e.g. `<out>/tokens/shard-00003`. */
  prefix: string;
  /**
   * Target file size in bytes. Files are cut between row groups when the token data written to
   * the file (4 bytes a token), times the compression ratio of this sink's previous file (0.3 for
   * the first), reaches it: known sizes only, so the cut points depend on the data alone.
   */
  shardSize: number;
  /** Uncompressed token bytes per row group. */
  rowGroupBytes: number;
  /** Packed rows of this length, or one row per document when null. */
  seqLen: number | null;
  metadata: Record<string, string>;
  /** The tokenizer's BOS id: documents in a file are counted by it. */
  bosId: number;
}

export const SHARD_NUMBER_DIGITS = 5;

/** On-disk bytes per uncompressed token byte assumed for a first file: zstd on Llama 3 ids measured 0.26 (bench/tokenizer.bench.ts). */
const FIRST_FILE_RATIO = 0.3;

export function shardNumber(n: number): string {
  return String(n).padStart(SHARD_NUMBER_DIGITS, '0');
}

export class ShardSink {
  private readonly packer: SequencePacker | null;
  private pendingDocs: DocumentRow[] = [];
  private pendingPacked: PackedRow[] = [];
  private pendingTokens = 0;
  private pendingDocCount = 0;
  private pendingPartial = 0;
  private writer: ParquetStreamWriter | null = null;
  private part = 0;
  private fileRows = 0;
  private fileTokens = 0;
  private fileDocs = 0;
  private filePartial = 0;
  private ratio = FIRST_FILE_RATIO;
  readonly files: ShardFileEntry[] = [];

  constructor(private readonly options: ShardSinkOptions) {
    this.packer = options.seqLen === null ? null : new SequencePacker(options.seqLen);
  }

  async add(row: DocumentRow): Promise<void> {
    if (this.packer) {
      for (const packed of this.packer.push(row.id, row.tokens)) this.addPacked(packed);
    } else {
      this.pendingDocs.push(row);
      this.pendingTokens += row.tokens.length;
      this.pendingDocCount += countBos(row.tokens, this.options.bosId);
    }
    if (this.pendingTokens * 4 >= this.options.rowGroupBytes) await this.flush();
  }

  private addPacked(packed: PackedRow): void {
    this.pendingPacked.push(packed);
    this.pendingTokens += packed.tokens.length;
    this.pendingDocCount += countBos(packed.tokens, this.options.bosId);
    if (packed.tokens.length < this.options.seqLen!) this.pendingPartial++;
  }

  /** Writes what is pending, in packed mode with the unfilled tail as a last, partial row. */
  async finish(): Promise<ShardFileEntry[]> {
    const tail = this.packer?.finish();
    if (tail) this.addPacked(tail);
    await this.flush();
    await this.closeFile();
    return this.files;
  }

  async abort(): Promise<void> {
    await this.writer?.abort();
    this.writer = null;
  }

  private async flush(): Promise<void> {
    const rows = this.packer ? this.pendingPacked.length : this.pendingDocs.length;
    if (rows === 0) return;
    const table: Table = this.packer ? packedTable(this.pendingPacked) : documentTable(this.pendingDocs);
    const tokens = this.pendingTokens;
    const docs = this.pendingDocCount;
    const partial = this.pendingPartial;
    this.pendingDocs = [];
    this.pendingPacked = [];
    this.pendingTokens = 0;
    this.pendingDocCount = 0;
    this.pendingPartial = 0;
    if (!this.writer) {
      this.writer = await ParquetStreamWriter.open(`${this.options.prefix}-${shardNumber(this.part)}.parquet`, { metadata: this.options.metadata });
    }
    await this.writer.write(table);
    this.fileRows += rows;
    this.fileTokens += tokens;
    this.fileDocs += docs;
    this.filePartial += partial;
    if (this.fileTokens * 4 * this.ratio >= this.options.shardSize) await this.closeFile();
  }

  private async closeFile(): Promise<void> {
    if (!this.writer) return;
    const written = await this.writer.close();
    this.writer = null;
    this.files.push({
      file: basename(written.path), rows: this.fileRows, docs: this.fileDocs, tokens: this.fileTokens,
      partial_rows: this.filePartial, bytes: written.bytes, sha256: written.sha256,
    });
    if (this.fileTokens > 0) this.ratio = written.bytes / (this.fileTokens * 4);
    this.part++;
    this.fileRows = 0;
    this.fileTokens = 0;
    this.fileDocs = 0;
    this.filePartial = 0;
  }
}

/** Every document starts with BOS, and text never encodes to it, so BOS tokens count documents. */
function countBos(tokens: Int32Array, bosId: number): number {
  let n = 0;
  for (let i = 0; i < tokens.length; i++) if (tokens[i] === bosId) n++;
  return n;
}
