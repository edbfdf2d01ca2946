/**
 * Any Hugging Face `tokenizer.json` (BPE, byte-level BPE, WordPiece, Unigram) as a document
 * tokenizer, through @huggingface/tokenizers, with `tokenizer_config.json` beside it when there is
 * one. Documents are encoded as ordinary text, then wrapped in BOS … EOS:
 * - special tokens are never produced from text: the file's special added tokens are left out of
 *   the splitter (what `split_special_tokens=True` does in `transformers`), so `<s>` in a document
 *   is encoded as the characters it is made of; a text that still encodes to the BOS or EOS id is
 *   refused (RefineryError), because documents are counted and cut by their BOS;
 * - BOS and EOS are, in this order of precedence: the `bos_token`/`eos_token` options, the
 *   `bos_token`/`eos_token` of tokenizer_config.json, the special tokens the post-processor's
 *   template puts before and after the text.
 * Lone surrogates become U+FFFD first, as for Llama 3.
 * The file's ids and special tokens are checked first (tokenizer-json-check.ts).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { RefineryError } from '../errors.ts';
import { replaceLoneSurrogates, type DocumentTokenizer } from './document-tokenizer.ts';
import { checkTokenizerJson } from './tokenizer-json-check.ts';

export const HUGGINGFACE_TOKENIZER_NAME = 'huggingface';

export interface SpecialTokenChoice {
  /** Token text of BOS / EOS (e.g. `<s>`); null: from tokenizer_config.json or the post-processor. */
  bos_token?: string | null;
  eos_token?: string | null;
}

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
}

type Json = Record<string, unknown>;

export class HuggingFaceTokenizer implements DocumentTokenizer {
  readonly name = HUGGINGFACE_TOKENIZER_NAME;

  private constructor(
    private readonly tokenizer: Tokenizer,
    readonly vocabSize: number,
    readonly bosId: number,
    readonly eosId: number,
    readonly vocabularySha256: string,
  ) {}

  /**
   * `json` is the parsed tokenizer.json, `bytes` its bytes (hashed for the manifest), `config` the
   * parsed tokenizer_config.json ({} when there is none); `source` names the file in errors and
   * `keyPath` the options in the config.
   */
  static fromJson(json: Json, bytes: Uint8Array, config: Json, choice: SpecialTokenChoice, source: string, keyPath = 'options'): HuggingFaceTokenizer {
    const { vocabSize } = checkTokenizerJson(json, source);
    const added = (Array.isArray(json.added_tokens) ? json.added_tokens : []) as AddedTokenJson[];
    // The library wants every top-level key that `tokenizers` writes; a hand-written file may omit the empty ones.
    const ordinary = { normalizer: null, pre_tokenizer: null, post_processor: null, decoder: null, ...json, added_tokens: added.filter((t) => !t.special) };
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(ordinary, config);
    } catch (e) {
      throw new RefineryError(`${source}: cannot build the tokenizer: ${(e as Error).message}`);
    }
    const idOf = (token: string): number | undefined => added.find((t) => t.content === token)?.id ?? tokenizer.token_to_id(token);

    const template = templateSpecials(json.post_processor);
    const pick = (which: 'bos' | 'eos'): number => {
      const key = `${which}_token` as const;
      const fromOption = choice[key];
      const fromConfig = tokenText(config[key]);
      const token = fromOption ?? fromConfig ?? (which === 'bos' ? template.before : template.after);
      const from = fromOption != null ? `${keyPath}.${key}` : fromConfig != null ? `${join(dirname(source), 'tokenizer_config.json')} ${key}` : `${source} post_processor`;
      if (token === undefined) {
        throw new RefineryError(`${source}: no ${which.toUpperCase()} token: neither tokenizer_config.json nor the post-processor names one; set ${keyPath}.${key}`);
      }
      const id = idOf(token);
      if (id === undefined) throw new RefineryError(`${from}: "${token}" is not a token of ${source}`);
      return id;
    };
    const bosId = pick('bos');
    const eosId = pick('eos');
    if (bosId === eosId) {
      throw new RefineryError(`${source}: BOS and EOS are the same token (id ${bosId}); documents are counted by their BOS, so set ${keyPath}.bos_token to a different token`);
    }
    return new HuggingFaceTokenizer(tokenizer, vocabSize, bosId, eosId, createHash('sha256').update(bytes).digest('hex'));
  }

  /** Reads `path` (a tokenizer.json) and the tokenizer_config.json in its folder, if any. */
  static async load(path: string, choice: SpecialTokenChoice = {}, keyPath?: string): Promise<HuggingFaceTokenizer> {
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (e) {
      throw new RefineryError(`${path}: cannot read tokenizer file: ${(e as Error).message}`);
    }
    const json = parseJson(bytes.toString('utf8'), path);
    let config: Json = {};
    const configPath = join(dirname(path), 'tokenizer_config.json');
    try {
      config = parseJson(await readFile(configPath, 'utf8'), configPath);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
    return HuggingFaceTokenizer.fromJson(json, bytes, config, choice, path, keyPath);
  }

  /** Ids of `text` as ordinary text, no BOS/EOS. */
  encode(text: string): number[] {
    return this.tokenizer.encode(replaceLoneSurrogates(text), { add_special_tokens: false }).ids;
  }

  encodeDocument(text: string): Int32Array {
    const body = this.encode(text);
    const out = new Int32Array(body.length + 2);
    out[0] = this.bosId;
    for (let i = 0; i < body.length; i++) {
      const id = body[i]!;
      if (id === this.bosId || id === this.eosId) throw new RefineryError(`the text encodes to the ${id === this.bosId ? 'BOS' : 'EOS'} id ${id} (token ${i + 1}); documents are counted by BOS, so it cannot be tokenized with this tokenizer`);
      out[i + 1] = id;
    }
    out[body.length + 1] = this.eosId;
    return out;
  }

  decode(ids: number[]): string {
    return this.tokenizer.decode(ids);
  }
}

function parseJson(text: string, path: string): Json {
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object');
    return v as Json;
  } catch (e) {
    throw new RefineryError(`${path}: not a tokenizer file: ${(e as Error).message}`);
  }
}

/** `"<s>"` or `{content: "<s>", ...}` (tokenizer_config.json writes both). */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v !== null && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string') return (v as { content: string }).content;
  return undefined;
}

/** The special tokens a TemplateProcessing post-processor (possibly inside a Sequence) puts just before and just after the text. */
function templateSpecials(processor: unknown): { before?: string; after?: string } {
  if (processor === null || typeof processor !== 'object') return {};
  const p = processor as { type?: string; processors?: unknown[]; single?: unknown[] };
  if (p.type === 'Sequence' && Array.isArray(p.processors)) {
    for (const inner of p.processors) {
      const found = templateSpecials(inner);
      if (found.before !== undefined || found.after !== undefined) return found;
    }
    return {};
  }
  if (p.type !== 'TemplateProcessing' || !Array.isArray(p.single)) return {};
  const items = p.single as { SpecialToken?: { id: string }; Sequence?: unknown }[];
  const text = items.findIndex((i) => i.Sequence !== undefined);
  if (text === -1) return {};
  return { before: items[text - 1]?.SpecialToken?.id, after: items[text + 1]?.SpecialToken?.id };
}
