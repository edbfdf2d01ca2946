/**
 * What the tokenized output needs from a tokenizer: one document as a trainer sees it (BOS, the
 * text's ids, EOS), the vocabulary size (the Megatron dtype and range checks), and what the
 * manifest records. Implemented by `Llama3Tokenizer` (exact: tiktoken's ids) and
 * `HuggingFaceTokenizer` (any tokenizer.json).
 */
/** The name that selects the exact Llama 3 tokenizer in options and manifests. */
export const LLAMA3_TOKENIZER_NAME = 'llama3';

export interface DocumentTokenizer {
  /** `llama3`, or `huggingface` for a tokenizer.json. */
  readonly name: string;
  /** Ids are 0 … vocabSize - 1. */
  readonly vocabSize: number;
  readonly bosId: number;
  readonly eosId: number;
  /** sha256 of the vocabulary (Llama 3: the rebuilt ranks file; tokenizer.json: the file's bytes). */
  readonly vocabularySha256: string;
  /** BOS, the ids of `text` as ordinary text (special tokens are never produced from text), EOS. */
  encodeDocument(text: string): Int32Array;
}

/** Every unpaired UTF-16 surrogate becomes U+FFFD (String#toWellFormed, Node 20; typed in ES2024 libs). */
export function replaceLoneSurrogates(text: string): string {
  return (text as unknown as { toWellFormed(): string }).toWellFormed();
}
