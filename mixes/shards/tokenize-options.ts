/** The `tokenize` stage's options, and the folder of a run where its shards go. */
import { z } from 'zod';
import { LLAMA3_TOKENIZER_NAME } from '../../pipeline/tokenizer/document-tokenizer.ts';

export const tokenizeOptions = z.strictObject({
  seq_len: z.number().int().min(2).nullable().default(null).describe('Packed rows of this many tokens; unset (null) writes one row per document. Llama 3 trains on 8,192-token sequences (Llama 3 paper §3.4).'),
  shard_size: z.number().int().positive().default(1_000_000_000).describe('Target file size in bytes: a new file starts once a file reaches it (checked per row group). About 1 GB.'),
  row_group_size: z.number().int().positive().default(32 * 1024 * 1024).describe('Uncompressed token bytes per Parquet row group: small enough for streaming readers.'),
  shuffle_seed: z.number().int().nullable().default(null).describe('Shuffle documents across the whole corpus with this seed; unset (null) keeps input order.'),
  shuffle_buckets: z.number().int().min(1).max(65536).default(64).describe('Shuffle buckets, one reduce task each: a reduce task holds its bucket (about output tokens × 4 B / buckets) in memory; a map task writes one spill file whatever the count (docs/tokenize.md: choosing buckets).'),
  plan: z.string().nullable().default(null).describe("A mix plan (`refinery mix plan`): documents are repeated or sampled by it, seeded by the run's seed."),
  tokenizer: z.string().min(1).default(LLAMA3_TOKENIZER_NAME).describe('`llama3` (the exact Llama 3 tokenizer), or the path of a Hugging Face tokenizer.json (its tokenizer_config.json beside it is read too).'),
  bos_token: z.string().min(1).nullable().default(null).describe("BOS token text of a tokenizer.json tokenizer; unset (null): the tokenizer_config.json's bos_token, else the post-processor's first special token."),
  eos_token: z.string().min(1).nullable().default(null).describe("EOS token text of a tokenizer.json tokenizer; unset (null): the tokenizer_config.json's eos_token, else the post-processor's last special token."),
});
export type TokenizeOptions = z.infer<typeof tokenizeOptions>;

export const TOKENS_DIR = 'tokens';
