/**
 * Llama 3's tokenizer, id-for-id: tiktoken's Rust BPE core (WASM build of the `tiktoken`
 * package) with Meta's ranks and pre-tokenisation pattern. Document text is always encoded as
 * ordinary text: a document containing `<|begin_of_text|>` gets the ids of those characters,
 * never a special id. Lone surrogates (possible in JS strings, not in UTF-8) are replaced by
 * U+FFFD first, which is what Meta's tokenizer gets too (tiktoken's Python `encode` re-decodes
 * such strings with errors="replace").
 */
import { Tiktoken } from 'tiktoken';
import { LLAMA3_TOKENIZER_NAME, replaceLoneSurrogates, type DocumentTokenizer } from './document-tokenizer.ts';
import { llama3Vocabulary, LLAMA3_VOCAB_SIZE } from './llama3-vocabulary.ts';
import { metaEncodeChunks } from './meta-chunks.ts';
import { LLAMA3_PRETOKEN_REGEX, UNICODE_VERSION_SKEW } from './pretoken-split.ts';

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
   * Split text in JavaScript and remember the ids of each distinct pre-token (word, number, run of
   * spaces), so tiktoken runs once per distinct piece. Same ids either way. Default on: 2.33M
   * tokens/s per core against 1.21M without it (bench/tokenizer.bench.ts, development corpora).
   */
  pretokenCache?: boolean;
  /** Pieces remembered before the cache is emptied and refilled. */
  cacheEntries?: number;
}

/** Pieces longer than this are not cached (rarely repeated, and they would crowd the cache). */
const MAX_CACHED_PIECE = 32;

export class Llama3Tokenizer implements DocumentTokenizer {
  readonly name = LLAMA3_TOKENIZER_NAME;
  readonly vocabSize = LLAMA3_VOCAB_SIZE;
  readonly bosId = BOS_ID;
  readonly eosId = EOS_ID;
  /** sha256 of the ranks file, for manifests. */
  readonly vocabularySha256: string;
  private readonly core: Tiktoken;
  private readonly utf8 = new TextDecoder('utf-8');
  private readonly cache: Map<string, Uint32Array> | null;
  private readonly cacheEntries: number;
  private buffer = new Uint32Array(1 << 16);

  constructor(options: Llama3TokenizerOptions = {}) {
    const vocab = llama3Vocabulary();
    this.core = new Tiktoken(vocab.bpeRanks, vocab.specialTokens, LLAMA3_PATTERN);
    this.vocabularySha256 = vocab.sha256;
    this.cache = options.pretokenCache === false ? null : new Map();
    this.cacheEntries = options.cacheEntries ?? 200_000;
  }

  /** Ids of `text` as ordinary text (no BOS/EOS), exactly as Meta's `encode(s, bos=False, eos=False)`. */
  encode(text: string): Uint32Array {
    const wellFormed = replaceLoneSurrogates(text);
    const chunks = metaEncodeChunks(wellFormed);
    if (chunks.length === 1) return this.encodeChunk(wellFormed);
    const parts = chunks.map((c) => this.encodeChunk(c));
    const out = new Uint32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  private encodeChunk(text: string): Uint32Array {
    const cache = this.cache;
    if (cache === null || UNICODE_VERSION_SKEW.test(text)) return this.core.encode_ordinary(text);
    let out = this.buffer;
    let n = 0;
    for (const match of text.matchAll(LLAMA3_PRETOKEN_REGEX)) {
      const piece = match[0];
      let ids = cache.get(piece);
      if (ids === undefined) {
        ids = this.core.encode_ordinary(piece);
        if (piece.length <= MAX_CACHED_PIECE) {
          if (cache.size >= this.cacheEntries) cache.clear();
          cache.set(piece, ids);
        }
      }
      if (n + ids.length > out.length) {
        const grown = new Uint32Array(Math.max(out.length * 2, n + ids.length));
        grown.set(out.subarray(0, n));
        out = this.buffer = grown;
      }
      if (ids.length === 1) out[n++] = ids[0]!;
      else {
        out.set(ids, n);
        n += ids.length;
      }
    }
    return out.slice(0, n);
  }

  /** BOS, the ids of `text`, EOS: one document as a trainer sees it. */
  encodeDocument(text: string): Int32Array {
    const body = this.encode(text);
    const out = new Int32Array(body.length + 2);
    out[0] = BOS_ID;
    out.set(body, 1);
    out[body.length + 1] = EOS_ID;
    return out;
  }

  /** Text of `ids`; special ids decode to their names. Invalid UTF-8 (a cut token run) gives U+FFFD. */
  decode(ids: ArrayLike<number>): string {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (!Number.isInteger(id) || id < 0 || id >= LLAMA3_VOCAB_SIZE) throw new RangeError(`token id ${id} is outside 0..${LLAMA3_VOCAB_SIZE - 1}`);
    }
    return this.utf8.decode(this.core.decode(Uint32Array.from(ids)));
  }

  /** Releases the WASM memory; the tokenizer is unusable afterwards. */
  free(): void {
    this.core.free();
  }
}
