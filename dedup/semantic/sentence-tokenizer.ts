/**
 * The tokenizer of a plug-in embedding model: any Hugging Face `tokenizer.json` (WordPiece for
 * BERT, MiniLM, BGE; Unigram for multilingual-e5, LaBSE, XLM-R; BPE ...) read by
 * @huggingface/tokenizers, with `tokenizer_config.json` beside it when there is one. Adds the
 * model's special tokens (its post-processor) and truncates the text between them, keeping the
 * leading and trailing ones ([CLS] … [SEP], <s> … </s>).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { RefineryError } from '../../pipeline/errors.ts';

/** Tokens per text when the tokenizer.json sets no `truncation.max_length`. */
const DEFAULT_MAX_LENGTH = 512;
/** Tokens are rarely longer than this many characters: encode() cuts the text first to bound the work. */
const MAX_CHARS_PER_TOKEN = 16;

export class SentenceTokenizer {
  /** Special tokens the post-processor puts before and after the text. */
  private readonly before: number;
  private readonly after: number;

  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly maxLength: number,
  ) {
    const specials = tokenizer.encode('').ids;
    this.before = specialsBefore(specials, tokenizer.encode('a').ids, tokenizer.encode('a', { add_special_tokens: false }).ids);
    this.after = specials.length - this.before;
  }

  /** `json` is a parsed tokenizer.json, `config` a parsed tokenizer_config.json ({} when there is none). */
  static fromJson(json: Record<string, unknown>, config: Record<string, unknown>, source: string): SentenceTokenizer {
    // The library wants every top-level key that `tokenizers` writes; a hand-written file may omit the empty ones.
    const full = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, added_tokens: [], ...json };
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(full, config);
    } catch (e) {
      throw new RefineryError(`${source}: cannot build the tokenizer: ${(e as Error).message}`);
    }
    const truncation = json.truncation as { max_length?: number } | null | undefined;
    return new SentenceTokenizer(tokenizer, truncation?.max_length ?? DEFAULT_MAX_LENGTH);
  }

  /** Reads `path` (a tokenizer.json) and the tokenizer_config.json in its folder, if any. */
  static async load(path: string): Promise<SentenceTokenizer> {
    const read = async (file: string, required: boolean): Promise<Record<string, unknown>> => {
      try {
        return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
      } catch (e) {
        if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return {};
        throw new RefineryError(`${file}: cannot read tokenizer file: ${(e as Error).message}`);
      }
    };
    return SentenceTokenizer.fromJson(await read(path, true), await read(join(dirname(path), 'tokenizer_config.json'), false), path);
  }

  /** Ids with the special tokens, the text's own cut so that all fit in `maxTokens` (default: the tokenizer's max_length). */
  encode(text: string, maxTokens = this.maxLength): number[] {
    const ids = this.tokenizer.encode(cutAtWhitespace(text, maxTokens * MAX_CHARS_PER_TOKEN)).ids;
    if (ids.length <= maxTokens) return ids;
    const room = Math.max(0, maxTokens - this.before - this.after);
    return [...ids.slice(0, this.before + room), ...ids.slice(ids.length - this.after)];
  }
}

/**
 * The text up to the first whitespace at or after `chars`: pre-tokenizers split at whitespace, so
 * the first tokens of the cut text are those of the whole text.
 */
function cutAtWhitespace(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const space = /\s/gu;
  space.lastIndex = chars;
  const m = space.exec(text);
  return m ? text.slice(0, m.index) : text;
}

/** How many of the template's special tokens come before the text: `encoded` = specials[0, k) + body + specials[k, …). */
function specialsBefore(specials: number[], encoded: number[], body: number[]): number {
  const same = (a: number[], b: number[]) => a.length === b.length && a.every((x, i) => x === b[i]);
  for (let k = 0; k <= specials.length; k++) {
    if (same(encoded, [...specials.slice(0, k), ...body, ...specials.slice(k)])) return k;
  }
  return 0;
}
