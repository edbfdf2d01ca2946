/**
 * Streaming WARC/WET reader (`.warc`, `.wet`, plain, `.gz` or `.zst`), records parsed by warcio.
 * One record is in memory at a time, and never one whose Content-Length exceeds max_doc_bytes.
 *
 * - `response` (and `resource`) records with an HTML payload become documents holding the
 *   page's main text (see html-text.ts); other `text/*` payloads are taken as they are.
 * - `conversion` records (WET) are text already.
 * - A response or resource whose payload is not text (image, PDF, ...) becomes an error item
 *   naming its media type: it is input the run was given and could not use.
 * - `warcinfo`, `request`, `metadata` and `revisit` records describe the crawl, not documents:
 *   they are skipped and not counted as input.
 * - A file cut short yields every complete record, then one error item with the byte offset;
 *   damage in a compressed file stops the reading there, and the error item says how many
 *   bytes of the compressed file were not read.
 * - `options.stripe` (a large file shared by several tasks) selects records by their index
 *   among all records of the file, as the JSONL reader selects lines.
 *
 * Byte offsets are positions in the decompressed WARC stream (node's zlib decompresses the
 * whole file as one stream; it is 1.7x faster than warcio's per-record pako inflation,
 * bench/readers.bench.ts).
 */
import { WARCParser, type LimitReader, type WARCRecord } from 'warcio';
import { compressionOf, inflating } from './compression.ts';
import { openInput, statInput } from './storage.ts';
import { decodeText, extractPageText, isHtmlMediaType, isTextMediaType } from './html-text.ts';
import { DEFAULT_HTML_EXTRACTOR, inStripe, type ReadItem, type ReaderOptions, type Where } from './read-item.ts';

const SKIPPED_TYPES = new Set(['warcinfo', 'request', 'metadata', 'revisit', 'continuation']);

export async function* readWarcDocs(file: string, options: ReaderOptions): AsyncGenerator<ReadItem> {
  const raw = await openInput(file);
  const inflate = inflating(raw, compressionOf(file));
  const parser = new WARCParser(inflate ? inflate.stream : raw);
  let recordNo = 0;
  let where: Where = { file, offset: 0 };
  // With a stripe, every task reads the whole stream but decodes only its own records; an
  // error belongs to the stripe of the record it happened in, so exactly one task reports it.
  const mine = () => inStripe(Math.max(recordNo - 1, 0), options.stripe);
  try {
    for (;;) {
      const record = await parser.parse();
      if (!record) return;
      recordNo++;
      where = { file, record: recordNo, offset: parser.offset };
      if (!record.warcType) {
        if (mine()) yield { kind: 'error', where, error: `${at(where)}: not a WARC record (no WARC-Type header); is this a WARC file?` };
        return;
      }
      if (SKIPPED_TYPES.has(record.warcType) || !mine()) {
        await record.skipFully();
        if (cutShort(record)) {
          if (mine()) yield { kind: 'error', where, id: recordId(record), error: truncatedMessage(where, record) };
          return;
        }
        continue;
      }
      const item = await recordToItem(record, where, options);
      if (cutShort(record)) {
        yield { kind: 'error', where, id: recordId(record), error: truncatedMessage(where, record) };
        return;
      }
      yield item;
    }
  } catch (e) {
    // A truncated or corrupt compressed stream: every complete record has been yielded.
    if (mine()) {
      const unread = inflate ? `; ${inflate.unread((await statInput(file).catch(() => null))?.size)}` : '';
      yield { kind: 'error', where, error: `${at(where)}: cannot read on (truncated or corrupt file?): ${e instanceof Error ? e.message : String(e)}${unread}` };
    }
  } finally {
    raw.destroy();
  }
}

async function recordToItem(record: WARCRecord, where: Where, options: ReaderOptions): Promise<ReadItem> {
  const id = recordId(record);
  const type = record.warcType;
  const url = record.warcTargetURI ?? undefined;
  if (record.warcContentLength > options.maxDocBytes) {
    await record.skipFully();
    return { kind: 'error', where, id, error: `${at(where)}: ${type} record of ${record.warcContentLength} bytes is longer than max_doc_bytes (${options.maxDocBytes})${url ? ` (${url})` : ''}` };
  }
  const mediaType = type === 'response' ? (record.httpHeaders?.headers.get('content-type') ?? '') : (record.warcContentType ?? '');
  const meta: Record<string, unknown> = { url, date: record.warcDate ?? undefined, warc_record_id: id, warc_type: type };
  if (type === 'response') meta.http_status = record.httpHeaders?.statusCode;
  if (mediaType) meta.content_type = mediaType;
  const language = record.warcHeader('WARC-Identified-Content-Language');
  if (language) meta.identified_language = language; // Common Crawl's own detection (CLD2), not the page's

  if (type !== 'conversion' && !isTextMediaType(mediaType)) {
    await record.skipFully();
    return { kind: 'error', where, id, error: `${at(where)}: ${type} record is ${mediaType.split(';')[0]}, not text${url ? ` (${url})` : ''}` };
  }
  // Raw first, so that a payload cut short can be told from a complete one (see cutShort).
  await record.readFully(false);
  let payload: Uint8Array;
  try {
    payload = await record.readFully(true); // undoes chunked transfer and gzip/br content encoding
  } catch (e) {
    return { kind: 'error', where, id, error: `${at(where)}: cannot decode the HTTP payload: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (payload.byteLength > options.maxDocBytes) {
    return { kind: 'error', where, id, error: `${at(where)}: payload of ${payload.byteLength} bytes (after content decoding) is longer than max_doc_bytes (${options.maxDocBytes})` };
  }
  let text: string;
  if (type !== 'conversion' && isHtmlMediaType(mediaType)) {
    let page;
    try {
      page = extractPageText(decodeText(payload, mediaType).text, options.htmlExtractor ?? DEFAULT_HTML_EXTRACTOR);
    } catch (e) {
      // e.g. a tree nested too deeply for the DOM walk: this page is lost, the file goes on.
      return { kind: 'error', where, id, error: `${at(where)}: cannot extract text from the HTML: ${e instanceof Error ? e.message : String(e)}` };
    }
    text = page.text;
    if (page.title) meta.title = page.title;
    if (page.lang) meta.html_lang = page.lang;
    meta.extraction = page.method;
  } else {
    text = decodeText(payload, mediaType).text;
  }
  return { kind: 'doc', doc: { id, text, meta: dropUndefined(meta) }, where };
}

function recordId(record: WARCRecord): string {
  return record.warcHeader('WARC-Record-ID') ?? '';
}

/** warcio's LimitReader counts down the bytes the Content-Length promised; left over = file ended early. */
function cutShort(record: WARCRecord): boolean {
  return (record.reader as LimitReader).limit > 0;
}

function truncatedMessage(where: Where, record: WARCRecord): string {
  const missing = (record.reader as LimitReader).limit;
  return `${at(where)}: file ends inside this record: ${missing} of its ${record.warcContentLength} bytes (Content-Length) are missing (truncated file?)`;
}

function at(where: Where): string {
  return `${where.file}: ${where.record === undefined ? '' : `record ${where.record} `}at byte ${where.offset ?? 0}`;
}

function dropUndefined(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
