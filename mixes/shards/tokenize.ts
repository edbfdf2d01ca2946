/**
 * The `tokenize` stage's definition: its options and where its work is done. The stage itself
 * (tokenize-stage.ts: tokenizers, Parquet writing, the shuffle) is imported only when a run
 * creates it, so that listing stages or validating a pipeline does not load tiktoken or Arrow.
 */
import { defineStage } from '../../pipeline/stage.ts';
import { tokenizeOptions, type TokenizeOptions } from './tokenize-options.ts';

export const tokenizeStage = defineStage<TokenizeOptions>({
  name: 'tokenize',
  kind: 'global',
  description: 'Token ids (Llama 3, or any tokenizer.json) to Parquet shards (one row per document, or packed), with _manifest.json',
  options: tokenizeOptions,
  create: async (options, ctx) => new (await import('./tokenize-stage.ts')).TokenizeStage(options, ctx),
});

/** This module's stages, for the registry. */
export const stages = [tokenizeStage];
