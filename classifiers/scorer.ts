/**
 * Scores texts with a model: a folder (card.json + ONNX file) run through ONNX Runtime, either a
 * model trained here (hashed fastText-style features computed in TypeScript) or a Hugging Face
 * sequence classifier brought with its tokenizer.json; or a fastText model file (`.bin`/`.ftz`,
 * with or without a card) run by fastText's own inference written again in TypeScript. Output:
 * one row of `outputs` numbers per text (class probabilities, or the regression value).
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { FeatureHasher } from './fasttext/features.ts';
import { fastTextFeeds } from './fasttext/export-onnx.ts';
import { fastTextFileCard, readModelCard, type FastTextCard, type ModelCard, type TransformerCard } from './model-card.ts';
import { openFastTextFile } from './fasttext-file/file-scorer.ts';
import { OnnxSession } from '../pipeline/onnx/session.ts';
import { InputError } from '../pipeline/errors.ts';

export interface TextScorer {
  readonly card: ModelCard;
  /** Values per text: classes for classification, 1 for regression. */
  readonly outputs: number;
  /** Scores of `texts`, row-major [texts.length × outputs]. */
  score(texts: readonly string[]): Promise<Float32Array>;
  close(): Promise<void>;
}

export interface ScorerOptions {
  /** ONNX Runtime threads per session (1: the runner parallelises over shards). */
  threads?: number;
  /** A fastText file named without a card: the positive class of a binary model. */
  positiveLabel?: string;
}

/** A model folder, or a fastText model file (`.bin`, `.ftz`). */
export async function openScorer(model: string, options: ScorerOptions = {}): Promise<TextScorer> {
  if (!(await isFolder(model))) {
    const scorer = await openFastTextFile(model);
    return scorer.withCard(fastTextFileCard(model, scorer.model.labels, options.positiveLabel));
  }
  const modelDir = model;
  const card = await readModelCard(modelDir);
  if (card.format === 'fasttext-file/1') return (await openFastTextFile(join(modelDir, card.file))).withCard(card);
  const session = await OnnxSession.load(join(modelDir, card.onnx), { threads: options.threads ?? 1 });
  return card.format === 'refinery-fasttext/1'
    ? new FastTextScorer(card, session)
    : new TransformerScorer(card, session, await loadTokenizer(modelDir, card));
}

/** A missing path is taken for a folder (its error names the card it lacks) unless named like a fastText file. */
async function isFolder(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return !/\.(bin|ftz)$/.test(path);
  }
}

class FastTextScorer implements TextScorer {
  private readonly hasher: FeatureHasher;
  readonly outputs: number;

  constructor(
    readonly card: FastTextCard,
    private readonly session: OnnxSession,
  ) {
    this.hasher = new FeatureHasher(card.features);
    this.outputs = card.model.outputs;
  }

  async score(texts: readonly string[]): Promise<Float32Array> {
    if (texts.length === 0) return new Float32Array(0);
    const feeds = fastTextFeeds(texts.map((t) => this.hasher.features(t)));
    const n = feeds.ids.length;
    const out = await this.session.run({
      ids: { type: 'int32', data: feeds.ids, dims: [n] },
      bag: { type: 'int32', data: feeds.bag, dims: [n] },
      weights: { type: 'float32', data: feeds.weights, dims: [n] },
    });
    return out.scores!.data as Float32Array;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

async function loadTokenizer(modelDir: string, card: TransformerCard): Promise<Tokenizer> {
  const read = async (name: string, required: boolean): Promise<object> => {
    const path = join(modelDir, name);
    try {
      return JSON.parse(await readFile(path, 'utf8')) as object;
    } catch (e) {
      if (!required && (e as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new InputError(path, {}, `cannot read tokenizer file: ${(e as Error).message}`);
    }
  };
  return new Tokenizer(await read(card.tokenizer, true), await read('tokenizer_config.json', false));
}

class TransformerScorer implements TextScorer {
  readonly outputs: number;

  constructor(
    readonly card: TransformerCard,
    private readonly session: OnnxSession,
    private readonly tokenizer: Tokenizer,
  ) {
    this.outputs = card.task === 'regression' ? 1 : card.labels.length;
  }

  /** Token ids with special tokens, cut to max_length keeping the final special token ([SEP], </s>). */
  private encode(text: string): number[] {
    const { max_length: max } = this.card;
    // Tokens are rarely under 1 character: cutting the text first bounds the work.
    const ids = this.tokenizer.encode(text.slice(0, max * 16)).ids;
    if (ids.length <= max) return ids;
    return [...ids.slice(0, max - 1), ids[ids.length - 1]!];
  }

  async score(texts: readonly string[]): Promise<Float32Array> {
    if (texts.length === 0) return new Float32Array(0);
    const encoded = texts.map((t) => this.encode(t));
    const width = Math.max(...encoded.map((e) => e.length));
    const n = texts.length;
    const pad = BigInt(this.tokenizer.token_to_id('<pad>') ?? this.tokenizer.token_to_id('[PAD]') ?? 0);
    const ids = new BigInt64Array(n * width).fill(pad);
    const mask = new BigInt64Array(n * width);
    for (let r = 0; r < n; r++) {
      const e = encoded[r]!;
      for (let k = 0; k < e.length; k++) {
        ids[r * width + k] = BigInt(e[k]!);
        mask[r * width + k] = 1n;
      }
    }
    const { card } = this;
    const feeds: Parameters<OnnxSession['run']>[0] = {
      [card.input_ids]: { type: 'int64', data: ids, dims: [n, width] },
      [card.attention_mask]: { type: 'int64', data: mask, dims: [n, width] },
    };
    if (card.token_type_ids) feeds[card.token_type_ids] = { type: 'int64', data: new BigInt64Array(n * width), dims: [n, width] };
    const out = await this.session.run(feeds, [card.output]);
    const logits = out[card.output]!.data as Float32Array;
    const k = this.outputs;
    if (card.task === 'binary' && card.activation === 'sigmoid' && logits.length === n) {
      // One logit per text: the positive class's probability is its sigmoid.
      const positive = card.labels.indexOf(card.positive_label ?? card.labels[1]!);
      const scores = new Float32Array(n * 2);
      for (let r = 0; r < n; r++) {
        const p = 1 / (1 + Math.exp(-logits[r]!));
        scores[r * 2 + positive] = p;
        scores[r * 2 + 1 - positive] = 1 - p;
      }
      return scores;
    }
    if (logits.length !== n * k) {
      throw new InputError(card.output, {}, `model output has ${logits.length / n} values per text, the card names ${k} labels`);
    }
    const scores = new Float32Array(n * k);
    for (let r = 0; r < n; r++) {
      const row = logits.subarray(r * k, r * k + k);
      if (card.activation === 'sigmoid') for (let c = 0; c < k; c++) scores[r * k + c] = 1 / (1 + Math.exp(-row[c]!));
      else if (card.activation === 'none') scores.set(row, r * k);
      else {
        const m = Math.max(...row);
        let s = 0;
        for (let c = 0; c < k; c++) s += Math.exp(row[c]! - m);
        for (let c = 0; c < k; c++) scores[r * k + c] = Math.exp(row[c]! - m) / s;
      }
    }
    return scores;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
