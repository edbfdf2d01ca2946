/**
 * Streaming JSONL reader (plain, .gz, .zst). Memory is bounded by the longest line: bytes are
 * split on "\n" before decoding, so invalid UTF-8, a malformed line or a missing `text` becomes
 * an error item for that line and reading goes on. A truncated or corrupt compressed file yields
 * the documents read so far and then one error item naming the byte offset and how much of the
 * compressed file was not read.
 */
import { basename } from 'node:path';
import type { Doc } from '../doc.ts';
import { compressionOf, inflating } from './compression.ts';
import { openInput, statInput } from './storage.ts';
import { inStripe, recordToDoc, type ReadItem, type ReaderOptions } from './read-item.ts';

const NL = 0x0a;

export async function* readJsonl(file: string, options: ReaderOptions): AsyncGenerator<ReadItem> {
  const raw = await openInput(file);
  const inflate = inflating(raw, compressionOf(file));
  const source = inflate ? inflate.stream : raw;
  const decoder = new TextDecoder('utf-8', { fatal: true });
  const name = options.idPrefix ?? basename(file);
  let lineNo = 0;
  let offset = 0; // decompressed byte offset of the current line's start
  let parts: Buffer[] = [];
  let partsLen = 0;
  let overflow = false;

  /** `length` is the line's full length in bytes; `bytes` holds only a 1 KB preview when it overflowed. */
  const emitLine = (bytes: Buffer, length: number): ReadItem | null => {
    lineNo++;
    const where = { file, line: lineNo };
    const lineStart = offset;
    offset += length + 1;
    const tooLong = overflow || length > options.maxDocBytes;
    overflow = false;
    if (!inStripe(lineNo - 1, options.stripe)) return null;
    if (tooLong) {
      return { kind: 'error', where, error: `line of ${length} bytes is longer than max_doc_bytes (${options.maxDocBytes} bytes); its first 1 KB is kept in "raw"`, raw: bytes.subarray(0, 1024).toString('utf8') };
    }
    let end = bytes.length;
    if (end > 0 && bytes[end - 1] === 0x0d) end--;
    if (end === 0) return null;
    let text: string;
    try {
      text = decoder.decode(bytes.subarray(0, end));
    } catch {
      return { kind: 'error', where, error: `invalid UTF-8 at byte ${lineStart} of the decompressed stream`, raw: bytes.toString('latin1') };
    }
    if (text.trim() === '') return null;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch (e) {
      return { kind: 'error', where, error: `malformed JSON: ${(e as Error).message}`, raw: text };
    }
    return recordToDoc(record, where, options, `${name}:${lineNo}`, text);
  };

  try {
    for await (const chunk of source as AsyncIterable<Buffer>) {
      let start = 0;
      for (let i = chunk.indexOf(NL, start); i !== -1; i = chunk.indexOf(NL, start)) {
        const piece = chunk.subarray(start, i);
        const length = partsLen + piece.length;
        let line: Buffer;
        if (partsLen === 0) line = piece;
        else {
          if (!overflow) parts.push(piece);
          line = Buffer.concat(parts);
          parts = [];
          partsLen = 0;
        }
        const item = emitLine(line, length);
        if (item) yield item;
        start = i + 1;
      }
      if (start < chunk.length) {
        const rest = chunk.subarray(start);
        if (partsLen + rest.length > options.maxDocBytes) {
          // Keep a preview only: memory stays bounded by max_doc_bytes whatever the line's length.
          if (!overflow) {
            overflow = true;
            parts = [Buffer.concat([...parts, rest]).subarray(0, 1024)];
          }
        } else parts.push(Buffer.from(rest));
        partsLen += rest.length;
      }
    }
    if (partsLen > 0) {
      const item = emitLine(Buffer.concat(parts), partsLen);
      if (item) yield item;
    }
  } catch (e) {
    // Exactly one stripe reports a read error: the one the next line would have belonged to.
    if (inStripe(lineNo, options.stripe)) {
      if (partsLen > 0 && !overflow) {
        // The last line may be cut by the truncation: report it as such rather than guess.
        yield { kind: 'error', where: { file, line: lineNo + 1 }, error: `incomplete last line before a read error`, raw: Buffer.concat(parts).toString('utf8') };
      }
      const unread = inflate ? `; ${inflate.unread((await statInput(file).catch(() => null))?.size)}` : '';
      yield { kind: 'error', where: { file, offset }, error: `cannot read past decompressed byte ${offset}: ${(e as Error).message}${unread}` };
    }
  }
}

export type { Doc };
