/** Opens any supported input by its file name and yields documents or error items. */
import { stat } from 'node:fs/promises';
import { InputError } from '../errors.ts';
import { readJsonl } from './jsonl-reader.ts';
import { readParquetDocs } from './parquet-reader.ts';
import { readWarcDocs } from './warc-reader.ts';
import { DEFAULT_READER_OPTIONS, inStripe, type ReadItem, type ReaderOptions } from './read-item.ts';

export type InputFormat = 'jsonl' | 'parquet' | 'warc';

export function formatOf(file: string): InputFormat {
  const f = file.toLowerCase().replace(/\.(gz|zst)$/, '');
  if (f.endsWith('.parquet')) return 'parquet';
  if (f.endsWith('.warc') || f.endsWith('.wet') || f.endsWith('.arc')) return 'warc';
  return 'jsonl';
}

/** Fails fast (InputError) on a missing or unreadable path; per-record problems are error items. */
export async function* readDocs(file: string, options: Partial<ReaderOptions> = {}): AsyncGenerator<ReadItem> {
  const opts: ReaderOptions = { ...DEFAULT_READER_OPTIONS, ...options };
  let info;
  try {
    info = await stat(file);
  } catch {
    throw new InputError(file, {}, 'no such file');
  }
  if (!info.isFile()) throw new InputError(file, {}, 'not a regular file');
  switch (formatOf(file)) {
    case 'parquet':
      yield* striped(readParquetDocs(file, opts), opts);
      return;
    case 'warc':
      yield* striped(readWarcDocs(file, opts), opts);
      return;
    default:
      yield* readJsonl(file, opts); // skips other stripes' lines before decoding them
  }
}

/** Stripe selection for readers that do not do it themselves: by the index of each item. */
async function* striped(items: AsyncIterable<ReadItem>, opts: ReaderOptions): AsyncGenerator<ReadItem> {
  let n = 0;
  for await (const it of items) if (inStripe(n++, opts.stripe)) yield it;
}
