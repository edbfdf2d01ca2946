/** WARC/WET input (placeholder until the WARC reader lands: every file is one error item). */
import type { ReadItem, ReaderOptions } from './read-item.ts';

export async function* readWarcDocs(file: string, _options: ReaderOptions): AsyncGenerator<ReadItem> {
  yield { kind: 'error', where: { file }, error: 'WARC input is not supported yet' };
}
