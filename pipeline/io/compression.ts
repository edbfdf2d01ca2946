/** Compression by file name: gzip through node:zlib, zstd through fzstd (read) and zstd-wasm (write). */
import { createGunzip, createGzip, constants as zc } from 'node:zlib';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { createRequire } from 'node:module';
import { Decompress } from 'fzstd';

export type Compression = 'none' | 'gzip' | 'zstd';

export function compressionOf(file: string): Compression {
  if (/\.gz$/i.test(file)) return 'gzip';
  if (/\.zst$/i.test(file)) return 'zstd';
  return 'none';
}

export function extensionFor(c: Compression): string {
  return c === 'gzip' ? '.gz' : c === 'zstd' ? '.zst' : '';
}

/**
 * A decompressing stream that counts the compressed bytes it has decompressed without error
 * (`bytesWritten`, as node's zlib streams do).
 */
export type Decompressor = Transform & { readonly bytesWritten: number };

/** Streaming zstd decompression; a truncated stream raises an error at its end. */
export function createZstdDecompress(): Decompressor {
  let ended = false;
  let bytesIn = 0;
  const inflater = new Decompress();
  const t = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      try {
        inflater.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
        bytesIn += chunk.byteLength;
        cb();
      } catch (e) {
        cb(e as Error);
      }
    },
    flush(cb: TransformCallback) {
      try {
        inflater.push(new Uint8Array(0), true);
        cb(ended ? null : new Error('unexpected end of zstd stream (truncated file?)'));
      } catch (e) {
        cb(new Error(`zstd stream is truncated or corrupt: ${(e as Error).message}`));
      }
    },
  });
  inflater.ondata = (data: Uint8Array, final?: boolean) => {
    if (data.length) t.push(Buffer.from(data));
    if (final) ended = true;
  };
  return Object.defineProperty(t, 'bytesWritten', { get: () => bytesIn }) as Decompressor;
}

/**
 * zlib's output chunk: 256 KB instead of Node's 16 KB. Each chunk is one round trip to libuv's
 * thread pool (a futex wake each way); at 16 KB the four-filter run of bench/pipeline.bench.ts
 * makes tens of thousands of them.
 */
const ZLIB_CHUNK = 1 << 18;

export function createDecompress(c: Compression): Decompressor | null {
  if (c === 'gzip') return createGunzip({ chunkSize: ZLIB_CHUNK });
  if (c === 'zstd') return createZstdDecompress();
  return null;
}

/**
 * Compressed bytes handed to the decompressor at a time. A decompressor stopped by damage has
 * taken in every earlier piece without error, so the damage is located to within one piece.
 * Each piece is a round trip to zlib's thread pool at least, as each output chunk is: a piece of
 * one output chunk's size adds few round trips to those the output takes.
 */
const FEED_PIECE = 1 << 18;

/** A compressed input being decompressed, and where its damage is when it stops on some. */
export interface Inflating {
  stream: Readable;
  /**
   * What a reader stopped by damage says about the part of the file it never read (`size`: the
   * file's). Damage is found where the decompressor fails, which may be after it: deflate can
   * decode damaged bytes into garbage until a later block or the checksum fails.
   */
  unread(size: number | undefined): string;
}

/** `raw` decompressed as `c` says (null for `none`); an error of `raw` ends the decompressed stream too. */
export function inflating(raw: Readable, c: Compression): Inflating | null {
  const inflate = createDecompress(c);
  if (!inflate) return null;
  let fed = 0;
  const pieces = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      for (let at = 0; at < chunk.length; at += FEED_PIECE) this.push(chunk.subarray(at, at + FEED_PIECE));
      cb();
    },
  });
  pieces.on('data', (piece: Buffer) => (fed += piece.length));
  raw.on('error', (e) => inflate.destroy(e));
  raw.pipe(pieces).pipe(inflate);
  return {
    stream: inflate,
    unread(size) {
      const done = inflate.bytesWritten;
      if (size === undefined) return `the file was decompressed without error up to compressed byte ${done}`;
      if (done >= size) return 'the file ends inside its compressed data (truncated?)';
      return `the decompressor stopped in compressed bytes ${done}-${Math.min(fed, size)}: the ${size - done} bytes of the file's ${size} from byte ${done} on were not read`;
    },
  };
}

interface ZstdWasm {
  init(): Promise<void>;
  compress(buf: Uint8Array, level?: number): Uint8Array;
}
let zstdWasm: Promise<ZstdWasm> | null = null;
function loadZstd(): Promise<ZstdWasm> {
  zstdWasm ??= (async () => {
    const mod = createRequire(import.meta.url)('@bokuweb/zstd-wasm') as ZstdWasm;
    await mod.init();
    return mod;
  })();
  return zstdWasm;
}

/**
 * zstd compression: each ~1 MB of input becomes one zstd frame (concatenated frames are a valid
 * zstd stream, read by `zstd -d`, fzstd and Python's zstandard alike).
 */
export async function createZstdCompress(level = 3): Promise<Transform> {
  const z = await loadZstd();
  const FRAME = 1 << 20;
  let pending: Buffer[] = [];
  let size = 0;
  const emit = (t: Transform) => {
    if (size === 0) return;
    t.push(Buffer.from(z.compress(Buffer.concat(pending, size), level)));
    pending = [];
    size = 0;
  };
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      pending.push(chunk);
      size += chunk.length;
      if (size >= FRAME) emit(this);
      cb();
    },
    flush(cb) {
      emit(this);
      cb();
    },
  });
}

/** Output compression: gzip at zlib's default level 6, zstd at level 3. */
export async function createCompress(c: Compression): Promise<Transform | null> {
  // Fixed gzip header fields (no mtime) keep outputs byte-identical across runs.
  if (c === 'gzip') return createGzip({ level: zc.Z_DEFAULT_COMPRESSION, chunkSize: ZLIB_CHUNK });
  if (c === 'zstd') return createZstdCompress(3);
  return null;
}
