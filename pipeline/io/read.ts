/** Opens any supported input by its file name and yields documents or error items. */
import { InputError } from '../errors.ts';
import { readJsonl } from './jsonl-reader.ts';
import { DEFAULT_READER_OPTIONS, setField, type ReadItem, type ReaderOptions } from './read-item.ts';
import { localCopy, statInput } from './storage.ts';

export type InputFormat = 'jsonl' | 'parquet' | 'warc';

export function formatOf(file: string): InputFormat {
  const f = file.toLowerCase().replace(/\.(gz|zst)$/, '');
  if (f.endsWith('.parquet')) return 'parquet';
  if (f.endsWith('.warc') || f.endsWith('.wet') || f.endsWith('.wat') || f.endsWith('.arc')) return 'warc';
  return 'jsonl';
}

/** Fails fast (InputError) on a missing or unreadable path; per-record problems are error items. */
export async function* readDocs(file: string, options: Partial<ReaderOptions> = {}): AsyncGenerator<ReadItem> {
  const opts: ReaderOptions = { ...DEFAULT_READER_OPTIONS, ...options };
  const info = await statInput(file);
  if (!info) throw new InputError(file, {}, 'no such file');
  if (info.kind !== 'file') throw new InputError(file, {}, 'not a regular file');
  if (opts.meta && Object.keys(opts.meta).length) {
    yield* withMetaDefaults(readByFormat(file, opts), opts.meta);
    return;
  }
  yield* readByFormat(file, opts);
}

async function* withMetaDefaults(items: AsyncIterable<ReadItem>, defaults: Record<string, unknown>): AsyncGenerator<ReadItem> {
  for await (const it of items) {
    if (it.kind === 'doc') for (const [k, v] of Object.entries(defaults)) if (it.doc.meta[k] === undefined || !Object.hasOwn(it.doc.meta, k)) setField(it.doc.meta, k, v);
    yield it;
  }
}

/** The Parquet (DuckDB) and WARC (HTML extraction) readers are imported only for such inputs. */
async function* readByFormat(file: string, opts: ReaderOptions): AsyncGenerator<ReadItem> {
  switch (formatOf(file)) {
    case 'parquet': {
      // DuckDB reads Parquet by random access: an object is downloaded to a temporary file first.
      const local = await localCopy(file);
      try {
        yield* (await import('./parquet-reader.ts')).readParquetDocs(file, opts, local.path); // selects its stripe's rows itself, skipping whole row groups
      } finally {
        await local.done();
      }
      return;
    }
    case 'warc':
      yield* (await import('./warc-reader.ts')).readWarcDocs(file, opts); // extracts text only from its stripe's records
      return;
    default:
      yield* readJsonl(file, opts); // skips other stripes' lines before decoding them
  }
}
