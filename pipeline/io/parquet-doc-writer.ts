/**
 * Writes documents `{id, text, meta}` to one Parquet file (`output_format: parquet`): columns
 * `id` (utf8), `text` (utf8) and `meta` (utf8, the JSON text of the meta object: meta has no
 * schema, and one Parquet column per meta key would need every key of the shard before the first
 * row group is written). zstd, one row group per ROW_GROUP_ROWS documents or ROW_GROUP_BYTES of
 * id, text and meta, whichever comes first; written to a temporary name and renamed on `close`.
 * The Parquet reader (parquet-reader.ts) merges a `meta` column that holds JSON objects back into
 * meta, so these files read back into the same documents.
 *
 * apache-arrow and parquet-wasm are imported on the first write, so a run in another format never
 * loads them (tests/startup-lazy.test.ts).
 */
import type { ParquetStreamWriter } from './parquet-stream-writer.ts';

export const ROW_GROUP_ROWS = 10_000;
export const ROW_GROUP_BYTES = 32 << 20;

type DocRecord = { id: string; text: string; meta: Record<string, unknown> };

export class ParquetDocWriter {
  private writer: ParquetStreamWriter | null = null;
  private ids: string[] = [];
  private texts: string[] = [];
  private metas: string[] = [];
  private bufferedBytes = 0;

  /** Documents written so far. */
  count = 0;

  /**
   * `lazy`: create the file only when a document comes (rejected/: no empty shards); otherwise
   * `close` writes a file even with no documents, as the JSONL writer does.
   */
  constructor(
    readonly path: string,
    private readonly options: { lazy?: boolean } = {},
  ) {}

  async write(record: unknown): Promise<void> {
    const d = record as DocRecord;
    const meta = JSON.stringify(d.meta);
    this.ids.push(d.id);
    this.texts.push(d.text);
    this.metas.push(meta);
    this.count++;
    // UTF-16 lengths: a bound within x3 of the UTF-8 size, without encoding every text twice.
    this.bufferedBytes += d.id.length + d.text.length + meta.length;
    if (this.ids.length >= ROW_GROUP_ROWS || this.bufferedBytes >= ROW_GROUP_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    const { Table, Utf8, vectorFromArray } = await import('apache-arrow');
    const utf8 = (values: string[]) => vectorFromArray(values, new Utf8());
    const table = new Table({ id: utf8(this.ids), text: utf8(this.texts), meta: utf8(this.metas) });
    this.ids = [];
    this.texts = [];
    this.metas = [];
    this.bufferedBytes = 0;
    this.writer ??= await openWriter(this.path);
    await this.writer.write(table, { keepEmpty: true });
  }

  async close(): Promise<void> {
    if (this.ids.length > 0 || (!this.writer && !this.options.lazy)) await this.flush();
    await this.writer?.close();
  }

  async abort(): Promise<void> {
    await this.writer?.abort();
  }
}

async function openWriter(path: string): Promise<ParquetStreamWriter> {
  const { ParquetStreamWriter } = await import('./parquet-stream-writer.ts');
  return ParquetStreamWriter.open(path, {});
}
