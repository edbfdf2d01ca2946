/**
 * Llama 3's tokenizer, id-for-id with tiktoken (Meta's ranks and pre-tokenisation pattern): text
 * is split by a JavaScript scanner of Meta's pattern, each distinct piece is byte-pair encoded
 * once in JavaScript with tiktoken's merge order, and tiktoken's Rust core (WASM build of the
 * `tiktoken` package) encodes only what that path cannot (see `encodeChunk`), and everything when
 * `pretokenCache` is off, as the reference the tests compare with. Document text is always encoded as
 * ordinary text: a document containing `<|begin_of_text|>` gets the ids of those characters,
 * never a special id. Lone surrogates (possible in JS strings, not in UTF-8) are replaced by
 * U+FFFD first, which is what Meta's tokenizer gets too (tiktoken's Python `encode` re-decodes
 * such strings with errors="replace").
 */
import { Tiktoken } from 'tiktoken';
import { LLAMA3_TOKENIZER_NAME, replaceLoneSurrogates, type DocumentTokenizer } from './document-tokenizer.ts';
import { BytePairEncoder } from './byte-pair.ts';
import { llama3Vocabulary, LLAMA3_BPE_VOCAB_SIZE, LLAMA3_VOCAB_SIZE, type Llama3Vocabulary } from './llama3-vocabulary.ts';
import { metaEncodeChunks } from './meta-chunks.ts';
import { MAX_PIECE_LENGTH, PieceCache, pieceHash } from './piece-cache.ts';
import { pretokenEnd, UNICODE_VERSION_SKEW } from './pretoken-split.ts';
import { writeUtf8 } from '../utf8.ts';

/**
 * Meta's pattern (llama3 `tokenizer.py`, REFERENCE.md). tiktoken compiles it with Rust's
 * fancy-regex, where `\s` is Unicode White_Space (U+0085 is, U+FEFF is not), as in Meta's run.
 */
export const LLAMA3_PATTERN =
  "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

export const BOS_ID = 128_000; // <|begin_of_text|>
export const EOS_ID = 128_001; // <|end_of_text|>


export interface Llama3TokenizerOptions {
  /**
   * Split text in JavaScript, remember the ids of each distinct pre-token (word, number, run of
   * spaces) and byte-pair encode new ones in JavaScript. Same ids either way. Off: tiktoken's WASM
   * core encodes all text (the reference the tests compare with). Default on: 2.74M tokens/s per
   * core against 0.73M without it, 9.77x llama3-tokenizer-js's speed (bench/tokenizer.bench.ts,
   * development corpora, loaded machine).
   */
  pretokenCache?: boolean;
  /** Pieces remembered before the cache is emptied and refilled. */
  cacheEntries?: number;
}


export class Llama3Tokenizer implements DocumentTokenizer {
  readonly name = LLAMA3_TOKENIZER_NAME;
  readonly vocabSize = LLAMA3_VOCAB_SIZE;
  readonly bosId = BOS_ID;
  readonly eosId = EOS_ID;
  /** sha256 of the ranks file, for manifests. */
  readonly vocabularySha256: string;
  private readonly vocab: Llama3Vocabulary;
  /** Built on first use, as it is slow to build and few runs need it: text with Unicode-version skew, `pretokenCache: false`. */
  private tiktoken: Tiktoken | null = null;
  private readonly utf8 = new TextDecoder('utf-8');
  private utf8Bytes = new Uint8Array(1024);
  private readonly cache: PieceCache | null;
  private readonly bytePair: BytePairEncoder;
  /** Ids being built (encodeDocument writes BOS at 0); `buffer32` is the same memory, unsigned. */
  private buffer = new Int32Array(1 << 16);
  private buffer32 = new Uint32Array(this.buffer.buffer);

  constructor(options: Llama3TokenizerOptions = {}) {
    this.vocab = llama3Vocabulary();
    this.vocabularySha256 = this.vocab.sha256;
    this.bytePair = new BytePairEncoder(this.vocab.tokenBytes, this.vocab.tokenOffsets);
    this.cache = options.pretokenCache === false ? null : new PieceCache(options.cacheEntries ?? 200_000);
  }

  private core(): Tiktoken {
    return (this.tiktoken ??= new Tiktoken(this.vocab.bpeRanks, this.vocab.specialTokens, LLAMA3_PATTERN));
  }

  /** Ids of `text` as ordinary text (no BOS/EOS), exactly as Meta's `encode(s, bos=False, eos=False)`. */
  encode(text: string): Uint32Array {
    const end = this.encodeInto(text, 0);
    return this.buffer32.slice(0, end);
  }

  /** BOS, the ids of `text`, EOS: one document as a trainer sees it. */
  encodeDocument(text: string): Int32Array {
    this.buffer[0] = BOS_ID;
    const end = this.encodeInto(text, 1);
    this.reserve(end + 1);
    this.buffer[end] = EOS_ID;
    return this.buffer.slice(0, end + 1);
  }

  /** Writes the ids of `text` into the buffer from `at`; returns where they end. */
  private encodeInto(text: string, at: number): number {
    const wellFormed = replaceLoneSurrogates(text);
    const chunks = metaEncodeChunks(wellFormed);
    for (const chunk of chunks) at = this.encodeChunk(chunk, at);
    return at;
  }

  private encodeChunk(text: string, at: number): number {
    const cache = this.cache;
    if (cache === null || UNICODE_VERSION_SKEW.test(text)) {
      const ids = this.core().encode_ordinary(text);
      this.reserve(at + ids.length);
      this.buffer32.set(ids, at);
      return at + ids.length;
    }
    const n = text.length;
    for (let start = 0; start < n;) {
      const end = pretokenEnd(text, start);
      // A piece has at most as many ids as UTF-8 bytes: 3 per UTF-16 unit.
      this.reserve(at + 3 * (end - start));
      // Longer pieces are rarely repeated, and they would crowd the cache.
      if (end - start > MAX_PIECE_LENGTH) at = this.encodePiece(text, start, end, at);
      else {
        const hash = pieceHash(text, start, end);
        const slot = cache.find(text, start, end, hash);
        if (slot >= 0) at = cache.copy(slot, this.buffer, at);
        else {
          const from = at;
          at = this.encodePiece(text, start, end, at);
          cache.insert(slot, text, start, end, hash, this.buffer, from, at);
        }
      }
      start = end;
    }
    return at;
  }

  /** Byte-pair encodes text[start, end) (well-formed) after writing its UTF-8 into a scratch buffer. */
  private encodePiece(text: string, start: number, end: number, at: number): number {
    if (this.utf8Bytes.length < 3 * (end - start)) this.utf8Bytes = new Uint8Array(3 * (end - start));
    const bytes = this.utf8Bytes;
    const n = writeUtf8(text, start, end, bytes, 0);
    return this.bytePair.encode(bytes, n, this.buffer, at);
  }

  /** Room for `length` ids in the buffer, keeping what is there. */
  private reserve(length: number): void {
    if (length <= this.buffer.length) return;
    const grown = new Int32Array(Math.max(this.buffer.length * 2, length));
    grown.set(this.buffer);
    this.buffer = grown;
    this.buffer32 = new Uint32Array(grown.buffer);
  }

  /** Text of `ids`; special ids decode to their names. Invalid UTF-8 (a cut token run) gives U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= LLAMA3_VOCAB_SIZE) throw new RangeError(`token id ${id} is outside 0..${LLAMA3_VOCAB_SIZE - 1}`);
      const bytes = id < LLAMA3_BPE_VOCAB_SIZE ? this.vocab.tokenBytes.subarray(this.vocab.tokenOffsets[id], this.vocab.tokenOffsets[id + 1]) : Buffer.from(this.vocab.specialNames[id - LLAMA3_BPE_VOCAB_SIZE]!, 'utf8');
      parts.push(bytes);
      length += bytes.length;
    }
    const out = new Uint8Array(length);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return this.utf8.decode(out);
  }

  /** Releases tiktoken's WASM memory (if it was built); the tokenizer is unusable afterwards. */
  free(): void {
    this.tiktoken?.free();
  }
}

let shared: Llama3Tokenizer | undefined;

/**
 * The thread's one Llama 3 tokenizer, which every user shares (the tokenize stage, the labeller's
 * budget cuts): it holds the ranks table and the pre-token cache, which take time to build
 * (bench/tokenizer.bench.ts) and memory to hold. Never `free` it.
 */
export function sharedLlama3Tokenizer(): Llama3Tokenizer {
  return (shared ??= new Llama3Tokenizer());
}
