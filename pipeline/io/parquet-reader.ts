/** Parquet input (placeholder until the Parquet reader lands: every file is one error item). */
import type { ReadItem, ReaderOptions } from './read-item.ts';

export async function* readParquetDocs(file: string, _options: ReaderOptions): AsyncGenerator<ReadItem> {
  yield { kind: 'error', where: { file }, error: 'Parquet input is not supported yet' };
}
