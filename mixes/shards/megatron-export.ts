/**
 * Tokenized Parquet shards → a Megatron-LM indexed dataset: `<prefix>.bin` (token ids end to end)
 * and `<prefix>.idx` (the MMIDIDX index), the files `IndexedDataset(prefix)` in
 * megatron/core/datasets/indexed_dataset.py reads and `tools/preprocess_data.py` writes.
 *
 * `.idx`, all little-endian:
 *   magic `MMIDIDX\x00\x00` (9 bytes) · version uint64 = 1 · dtype code uint8 (4 = int32, 8 = uint16)
 *   · sequence count S uint64 · document-index count D uint64
 *   · S int32 sequence lengths (tokens) · S int64 sequence pointers (byte offsets into `.bin`)
 *   · D int64 document indices: 0, then the sequence index where each document ends.
 * Each document (BOS … EOS) is one sequence, so D = S + 1 and the document indices are 0 … S.
 * The dtype follows Megatron's `DType.optimal_dtype(vocab_size)`: uint16 below 65,500 ids, else
 * int32 (Llama 3's 128,256 ids need int32).
 *
 * Streaming: shards are read one DuckDB chunk at a time (files in manifest order), token ids go
 * straight to `.bin`, and sequence lengths to a side file; the index is then written from that
 * file in blocks. Memory does not grow with the corpus.
 *
 * Packed shards (rows of `seq_len` tokens) are cut back into documents at BOS tokens: every
 * document starts with BOS and text never encodes to it (docs/tokenize.md), so a document that
 * continues into the next row, or the next file, stays whole.
 */
import { lstat, mkdir, open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckDBInstance, DuckDBListVector, type DuckDBConnection, type DuckDBVector } from '@duckdb/node-api';
import { syncFile, tempNameFor } from '../../pipeline/io/atomic.ts';
import { InputError, RefineryError } from '../../pipeline/errors.ts';
import type { TokenizeManifest } from './manifest.ts';
import { TOKENS_DIR } from './tokenize-options.ts';
import { MANIFEST_FILE, manifestPaths, OLD_MANIFEST_FILE } from './manifest-names.ts';

export const MMIDIDX_MAGIC = Buffer.from('MMIDIDX\x00\x00', 'latin1');
export const MMIDIDX_VERSION = 1n;
/** Megatron's `DType` codes. */
export const MEGATRON_DTYPE = { int32: 4, uint16: 8 } as const;
export type MegatronDtype = keyof typeof MEGATRON_DTYPE;

/** Megatron's `DType.optimal_dtype`: uint16 when the vocabulary has fewer than 65,500 ids. */
export function megatronDtype(vocabSize: number): MegatronDtype {
  return vocabSize < 65_500 ? 'uint16' : 'int32';
}

export interface MegatronExport {
  bin: string;
  idx: string;
  dtype: MegatronDtype;
  /** Sequences = documents (plan copies included). */
  documents: number;
  tokens: number;
  layout: TokenizeManifest['format']['layout'];
}

/** The manifest of a tokens folder: in `<dir>`, or in `<dir>/tokens` for a run's output folder (either name, manifest-names.ts). */
export async function readTokensManifest(dir: string): Promise<{ dir: string; manifest: TokenizeManifest }> {
  for (const [candidate, path] of [dir, join(dir, TOKENS_DIR)].flatMap((d) => manifestPaths(d).map((p) => [d, p] as const))) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') continue;
      throw e;
    }
    let manifest: TokenizeManifest;
    try {
      manifest = JSON.parse(text) as TokenizeManifest;
    } catch (e) {
      throw new InputError(path, {}, `not JSON: ${(e as Error).message}`);
    }
    if (manifest.version !== 1 || !manifest.tokenizer || !Array.isArray(manifest.shards)) {
      throw new InputError(path, {}, 'not a tokenize manifest (version 1, with tokenizer and shards)');
    }
    return { dir: candidate, manifest };
  }
  throw new RefineryError(`${dir}: no ${MANIFEST_FILE} (or ${OLD_MANIFEST_FILE}) here or in ${join(dir, TOKENS_DIR)}/; give the tokens folder a tokenize run wrote`);
}

/** Appends bytes to a file through a 1 MiB buffer. */
class BlockWriter {
  private buffer = Buffer.allocUnsafe(1 << 20);
  private fill = 0;
  written = 0;

  constructor(private readonly file: FileHandle) {}

  async write(bytes: Uint8Array): Promise<void> {
    if (this.fill + bytes.length > this.buffer.length) await this.flush();
    if (bytes.length > this.buffer.length) {
      await this.file.write(bytes);
    } else {
      this.buffer.set(bytes, this.fill);
      this.fill += bytes.length;
    }
    this.written += bytes.length;
  }

  async flush(): Promise<void> {
    if (this.fill > 0) await this.file.write(this.buffer.subarray(0, this.fill));
    this.fill = 0;
  }
}

/** Token ids of a chunk, in the `.bin` dtype, checked against the vocabulary. */
class TokenEncoder {
  constructor(
    private readonly dtype: MegatronDtype,
    private readonly vocabSize: number,
  ) {}

  encode(values: DuckDBVector, from: number, count: number, where: () => string): Uint8Array {
    const out = this.dtype === 'uint16' ? new Uint16Array(count) : new Int32Array(count);
    for (let i = 0; i < count; i++) {
      const id = values.getItem(from + i) as number | null;
      if (id === null || id < 0 || id >= this.vocabSize) throw new RefineryError(`${where()}: token id ${id} is outside the vocabulary (0..${this.vocabSize - 1})`);
      out[i] = id;
    }
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
}

/**
 * Writes `<prefix>.bin` and `<prefix>.idx` from the tokens folder `tokensDir` (or a run's output
 * folder holding `tokens/`). Both files are written to temporary names and renamed when complete.
 * A dataset already at the prefix is refused unless `force` (a training run may be reading it,
 * and an export of other tokens would silently take its place); `force` replaces files only.
 */
export async function exportMegatron(tokensDir: string, prefix: string, { force = false }: { force?: boolean } = {}): Promise<MegatronExport> {
  for (const path of [`${prefix}.bin`, `${prefix}.idx`]) {
    const existing = await lstat(path).catch(() => null);
    if (!existing) continue;
    if (!existing.isFile()) throw new RefineryError(`${path} exists and is not a file; give another -o prefix`);
    if (!force) throw new RefineryError(`${path} already exists; give another -o prefix, or --force to replace the dataset at this prefix`);
  }
  const { dir, manifest } = await readTokensManifest(tokensDir);
  const vocabSize = manifest.tokenizer.vocab_size;
  const bosId = manifest.tokenizer.bos_id;
  const dtype = megatronDtype(vocabSize);
  const itemSize = dtype === 'uint16' ? 2 : 4;
  const layout = manifest.format.layout;
  const binPath = `${prefix}.bin`;
  const idxPath = `${prefix}.idx`;
  const binTmp = tempNameFor(binPath);
  const lengthsTmp = tempNameFor(`${prefix}.lengths`);
  const idxTmp = tempNameFor(idxPath);
  const duckdb = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await duckdb.connect();
  const encoder = new TokenEncoder(dtype, vocabSize);
  let binFile: FileHandle | null = null;
  let lengthsFile: FileHandle | null = null;
  try {
    await mkdir(dirname(binPath), { recursive: true });
    binFile = await open(binTmp, 'w');
    lengthsFile = await open(lengthsTmp, 'w');
    const bin = new BlockWriter(binFile);
    const lengths = new BlockWriter(lengthsFile);
    let documents = 0;
    let tokens = 0;
    /** Tokens of the document being written; -1 before the first. */
    let current = -1;
    const endDocument = async (): Promise<void> => {
      if (current < 0) return;
      if (current > 0x7fffffff) throw new RefineryError(`a document of ${current} tokens does not fit Megatron's int32 sequence length`);
      await lengths.write(new Uint8Array(Int32Array.of(current).buffer));
      documents++;
      current = -1;
    };
    for (const shard of manifest.shards) {
      const file = join(dir, shard.file);
      let row = 0;
      for await (const { ids, offset, length } of tokenLists(connection, file)) {
        const where = () => `${file}: row ${row + 1}`;
        if (layout === 'documents') {
          if (length === 0) throw new RefineryError(`${where()}: empty input_ids`);
          await bin.write(encoder.encode(ids, offset, length, where));
          current = length;
          await endDocument();
        } else {
          let start = 0;
          for (let i = 0; i <= length; i++) {
            if (i < length && ids.getItem(offset + i) !== bosId) continue;
            if (i > start) {
              if (current < 0) throw new RefineryError(`${where()}: tokens before the first BOS (${bosId}); packed rows must start with a document`);
              await bin.write(encoder.encode(ids, offset + start, i - start, where));
              current += i - start;
            }
            if (i < length) {
              await endDocument();
              current = 0;
            }
            start = i;
          }
        }
        tokens += length;
        row++;
      }
      if (row !== shard.rows) throw new RefineryError(`${file}: ${row} rows, but the manifest says ${shard.rows}`);
    }
    await endDocument();
    await bin.flush();
    await lengths.flush();
    if (documents !== manifest.totals.docs || tokens !== manifest.totals.tokens) {
      throw new RefineryError(`${dir}: read ${documents} documents and ${tokens} tokens, but ${MANIFEST_FILE} says ${manifest.totals.docs} and ${manifest.totals.tokens}`);
    }
    if (bin.written !== tokens * itemSize) throw new RefineryError(`${binPath}: wrote ${bin.written} bytes for ${tokens} tokens`);
    await binFile.sync();
    await binFile.close();
    binFile = null;
    await lengthsFile.close();
    lengthsFile = null;
    await writeIndex(idxTmp, lengthsTmp, documents, dtype);
    await rename(binTmp, binPath);
    await rename(idxTmp, idxPath);
    return { bin: binPath, idx: idxPath, dtype, documents, tokens, layout };
  } finally {
    connection.closeSync();
    duckdb.closeSync();
    await binFile?.close();
    await lengthsFile?.close();
    await rm(lengthsTmp, { force: true });
    await rm(binTmp, { force: true });
    await rm(idxTmp, { force: true });
  }
}

/** Each row's `input_ids` as a window (`offset`, `length`) of a DuckDB child vector, in file order. */
async function* tokenLists(connection: DuckDBConnection, file: string): AsyncGenerator<{ ids: DuckDBVector; offset: number; length: number }> {
  const result = await connection.stream(`SELECT input_ids FROM read_parquet('${file.replaceAll("'", "''")}')`);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (chunk === null || chunk.rowCount === 0) return;
    const lists = chunk.getColumnVector(0);
    if (!(lists instanceof DuckDBListVector)) throw new InputError(file, {}, 'input_ids is not a list column');
    const ids = lists.childVector;
    for (let r = 0; r < chunk.rowCount; r++) yield { ids, offset: lists.getEntryOffset(r), length: lists.getEntryLength(r) };
  }
}

/** The `.idx` file from the sequence lengths in `lengthsPath` (int32 each), read in blocks. */
async function writeIndex(idxPath: string, lengthsPath: string, sequences: number, dtype: MegatronDtype): Promise<void> {
  const itemSize = BigInt(dtype === 'uint16' ? 2 : 4);
  const file = await open(idxPath, 'w');
  try {
    const out = new BlockWriter(file);
    const head = Buffer.alloc(MMIDIDX_MAGIC.length + 8 + 1 + 8 + 8);
    let at = MMIDIDX_MAGIC.copy(head, 0);
    at = head.writeBigUInt64LE(MMIDIDX_VERSION, at);
    at = head.writeUInt8(MEGATRON_DTYPE[dtype], at);
    at = head.writeBigUInt64LE(BigInt(sequences), at);
    head.writeBigUInt64LE(BigInt(sequences + 1), at);
    await out.write(head);
    const lengthsSize = (await stat(lengthsPath)).size;
    if (lengthsSize !== sequences * 4) throw new RefineryError(`${lengthsPath}: ${lengthsSize} bytes for ${sequences} sequence lengths`);
    for await (const block of lengthBlocks(lengthsPath)) await out.write(new Uint8Array(block.buffer, block.byteOffset, block.byteLength));
    let pointer = 0n;
    for await (const block of lengthBlocks(lengthsPath)) {
      const pointers = new BigInt64Array(block.length);
      for (let i = 0; i < block.length; i++) {
        pointers[i] = pointer;
        pointer += BigInt(block[i]!) * itemSize;
      }
      await out.write(new Uint8Array(pointers.buffer));
    }
    const BLOCK = 1 << 16;
    for (let from = 0; from <= sequences; from += BLOCK) {
      const indices = new BigInt64Array(Math.min(BLOCK, sequences + 1 - from));
      for (let i = 0; i < indices.length; i++) indices[i] = BigInt(from + i);
      await out.write(new Uint8Array(indices.buffer));
    }
    await out.flush();
  } finally {
    await file.close();
  }
  await syncFile(idxPath);
}

/** The int32 lengths of a file, 64K at a time. */
async function* lengthBlocks(path: string): AsyncGenerator<Int32Array> {
  const file = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(1 << 18);
    for (;;) {
      const { bytesRead } = await file.read(buffer, 0, buffer.length, null);
      if (bytesRead === 0) return;
      yield new Int32Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + bytesRead));
    }
  } finally {
    await file.close();
  }
}
