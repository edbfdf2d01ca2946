/**
 * Global shuffle in two passes, so that no process holds the corpus. Map: every document copy gets
 * a key, sha256(seed, input shard, position, copy) (12 bytes of it sort; 4 more pick one of B
 * buckets), and the tokenized row is spilled to `<work>/spill/bucket-b/shard-i.parquet`. Reduce:
 * bucket by bucket, the rows of all input shards are read back, sorted by key and written out. Every document is
 * equally likely to land anywhere; the reduce holds one bucket (about corpus / B) in memory, and a
 * map task keeps B spill files open, so B is at most a few hundred (docs/tokenize.md: limits).
 * The keys depend only on the seed and the input, never on the number of workers.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Table, Utf8, tableFromIPC, vectorFromArray } from 'apache-arrow';
import * as parquet from 'parquet-wasm';
import { ParquetStreamWriter } from './parquet-stream-writer.ts';
import { shardNumber } from './shard-sink.ts';
import { documentTable, type DocumentRow } from './token-rows.ts';

/** Per bucket, rows are buffered up to this many token bytes before a row group is spilled. */
const SPILL_BUFFER_BYTES = 1 << 20;

export interface KeyedRow {
  key: string;
  row: DocumentRow;
}

export function shuffleKey(seed: number, shard: number, position: number, copy: number): { key: string; bucketHash: number } {
  const digest = createHash('sha256').update(`${seed}\u0000${shard}\u0000${position}\u0000${copy}`).digest();
  return { key: digest.subarray(0, 12).toString('hex'), bucketHash: digest.readUInt32BE(12) };
}

export function spillPath(workDir: string, bucket: number, shard: number): string {
  return join(workDir, 'spill', `bucket-${shardNumber(bucket)}`, `shard-${shardNumber(shard)}.parquet`);
}

/** The map side: spills keyed rows of one input shard into per-bucket files. */
export class ShuffleSpill {
  private readonly pending = new Map<number, { rows: KeyedRow[]; tokens: number }>();
  private readonly writers = new Map<number, ParquetStreamWriter>();

  constructor(
    private readonly workDir: string,
    private readonly shard: number,
    private readonly seed: number,
    private readonly bucketCount: number,
  ) {}

  async add(position: number, copy: number, row: DocumentRow): Promise<void> {
    const { key, bucketHash } = shuffleKey(this.seed, this.shard, position, copy);
    const bucket = bucketHash % this.bucketCount;
    let p = this.pending.get(bucket);
    if (!p) this.pending.set(bucket, (p = { rows: [], tokens: 0 }));
    p.rows.push({ key, row });
    p.tokens += row.tokens.length;
    if (p.tokens * 4 >= SPILL_BUFFER_BYTES) await this.flush(bucket);
  }

  async finish(): Promise<void> {
    for (const bucket of [...this.pending.keys()].sort((a, b) => a - b)) await this.flush(bucket);
    for (const bucket of [...this.writers.keys()].sort((a, b) => a - b)) await this.writers.get(bucket)!.close();
    this.writers.clear();
  }

  async abort(): Promise<void> {
    for (const w of this.writers.values()) await w.abort();
    this.writers.clear();
  }

  private async flush(bucket: number): Promise<void> {
    const p = this.pending.get(bucket);
    if (!p || p.rows.length === 0) return;
    this.pending.delete(bucket);
    let writer = this.writers.get(bucket);
    if (!writer) {
      writer = await ParquetStreamWriter.open(spillPath(this.workDir, bucket, this.shard), {});
      this.writers.set(bucket, writer);
    }
    const keys = new Table({ shuffle_key: vectorFromArray(p.rows.map((r) => r.key), new Utf8()) });
    await writer.write(documentTable(p.rows.map((r) => r.row)).assign(keys));
  }
}

function nullableString(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

/** The reduce side: all rows of one bucket (from every input shard that has some), in key order. */
export async function readShuffleBucket(workDir: string, bucket: number, shardCount: number): Promise<DocumentRow[]> {
  const keyed: KeyedRow[] = [];
  for (let shard = 0; shard < shardCount; shard++) {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(spillPath(workDir, bucket, shard));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw e;
    }
    const table = tableFromIPC(parquet.readParquet(bytes).intoIPCStream());
    const ids = table.getChild('input_ids')!;
    for (let i = 0; i < table.numRows; i++) {
      const row = table.get(i)!;
      const tokens = ids.get(i) as { toArray(): Int32Array };
      const quality = row.quality as number | null;
      keyed.push({
        key: row.shuffle_key as string,
        row: {
          id: row.id as string,
          tokens: Int32Array.from(tokens.toArray()),
          source: nullableString(row.source),
          language: nullableString(row.language),
          category: nullableString(row.category),
          quality: typeof quality === 'number' ? quality : null,
          quality_band: nullableString(row.quality_band),
        },
      });
    }
  }
  keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return keyed.map((k) => k.row);
}
