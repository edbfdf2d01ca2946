/**
 * Llama 3's BPE ranks in tiktoken's format, rebuilt from the vocabulary that the npm package
 * `llama3-tokenizer-js` ships (nothing is downloaded). That package stores each token as the
 * GPT-2 "byte-to-unicode" string of its bytes, one per line, in id order; Meta's
 * `tokenizer.model` is the same tokens as `base64(bytes) rank` lines where rank = id.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Ordinary (BPE) tokens: ids 0..127999. */
export const LLAMA3_BPE_VOCAB_SIZE = 128_000;
/** Ordinary plus special tokens (ids 128000..128255). */
export const LLAMA3_VOCAB_SIZE = 128_256;

export interface Llama3Vocabulary {
  /** tiktoken's `.tiktoken` file text: `base64(token bytes) rank` per line, rank = id. */
  bpeRanks: string;
  /** The 256 special tokens by name (Llama 3.1 names), ids 128000..128255. */
  specialTokens: Record<string, number>;
  /** sha256 of `bpeRanks`, hex: identifies the vocabulary in shard manifests. */
  sha256: string;
  /** Every ordinary token's bytes, end to end in id order: token `id` is tokenBytes[tokenOffsets[id], tokenOffsets[id + 1]). */
  tokenBytes: Uint8Array;
  tokenOffsets: Int32Array;
  /** Names of the special tokens, by id - 128000. */
  specialNames: string[];
}

/** GPT-2's reversible map from bytes to printable characters, inverted: character -> byte. */
function unicodeToByte(): Map<string, number> {
  const printable: number[] = [];
  for (let b = 0x21; b <= 0x7e; b++) printable.push(b);
  for (let b = 0xa1; b <= 0xac; b++) printable.push(b);
  for (let b = 0xae; b <= 0xff; b++) printable.push(b);
  const map = new Map<string, number>();
  for (const b of printable) map.set(String.fromCharCode(b), b);
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    if (!printable.includes(b)) map.set(String.fromCharCode(256 + shifted++), b);
  }
  return map;
}

/**
 * The package's tokens in id order (`vocabById`: the 128,000 BPE tokens, then the 256 special
 * ones), read from the data baked into its bundle without running the module: importing it builds
 * its whole tokenizer, and decompressing its BPE merges (which tiktoken's ranks make unnecessary
 * here) would be the larger part of loading the vocabulary that way. Null when the bundle does not have
 * the expected shape (another version): then the module is imported. tests/tokenizer-llama3.test.ts
 * compares the two.
 */
export function bakedTokens(): string[] | null {
  const bundle = readFileSync(require.resolve('llama3-tokenizer-js'), 'utf8');
  const vocab = /\bconst llama_vocab_base64 = "([A-Za-z0-9+/=]+)"/.exec(bundle);
  const specials = /\bconst llama3SpecialTokens = \[([^\]]*)\];\s*for \(let i = (\d+); i <= (\d+); i\+\+\) \{\s*llama3SpecialTokens\.push\(`<\|reserved_special_token_\$\{i\}\|>`\);\s*\}/.exec(bundle);
  if (!vocab || !specials) return null;
  const named = [...specials[1]!.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
  for (let i = Number(specials[2]); i <= Number(specials[3]); i++) named.push(`<|reserved_special_token_${i}|>`);
  return [...Buffer.from(vocab[1]!, 'base64').toString('utf8').split('\n'), ...named];
}

/** The package's own tokens, from its CommonJS bundle (the same data; loading it builds its whole tokenizer). */
export function importedTokens(): string[] {
  const cjs = require('llama3-tokenizer-js/bundle/commonjs-llama3-tokenizer-with-baked-data.cjs') as { llama3Tokenizer: { vocabById: string[] } };
  return cjs.llama3Tokenizer.vocabById;
}

let cached: Llama3Vocabulary | undefined;

export function llama3Vocabulary(): Llama3Vocabulary {
  return (cached ??= buildVocabulary(bakedTokens() ?? importedTokens()));
}

function buildVocabulary(tokens: string[]): Llama3Vocabulary {
  if (tokens.length !== LLAMA3_VOCAB_SIZE) {
    throw new Error(`llama3-tokenizer-js ships ${tokens.length} tokens, expected ${LLAMA3_VOCAB_SIZE}`);
  }
  const toByte = unicodeToByte();
  const lines: string[] = new Array(LLAMA3_BPE_VOCAB_SIZE);
  // One character per byte: a token's length is its byte count.
  const tokenOffsets = new Int32Array(LLAMA3_BPE_VOCAB_SIZE + 1);
  for (let id = 0; id < LLAMA3_BPE_VOCAB_SIZE; id++) tokenOffsets[id + 1] = tokenOffsets[id]! + tokens[id]!.length;
  const tokenBytes = new Uint8Array(tokenOffsets[LLAMA3_BPE_VOCAB_SIZE]!);
  for (let id = 0; id < LLAMA3_BPE_VOCAB_SIZE; id++) {
    const token = tokens[id]!;
    const at = tokenOffsets[id]!;
    for (let i = 0; i < token.length; i++) {
      const b = toByte.get(token[i]!);
      if (b === undefined) throw new Error(`llama3-tokenizer-js token ${id} is not byte-level encoded`);
      tokenBytes[at + i] = b;
    }
    lines[id] = `${Buffer.from(tokenBytes.buffer, at, token.length).toString('base64')} ${id}`;
  }
  const bpeRanks = lines.join('\n') + '\n';
  const specialTokens: Record<string, number> = {};
  const specialNames = tokens.slice(LLAMA3_BPE_VOCAB_SIZE, LLAMA3_VOCAB_SIZE);
  for (let id = LLAMA3_BPE_VOCAB_SIZE; id < LLAMA3_VOCAB_SIZE; id++) specialTokens[tokens[id]!] = id;
  return { bpeRanks, specialTokens, sha256: createHash('sha256').update(bpeRanks).digest('hex'), tokenBytes, tokenOffsets, specialNames };
}
