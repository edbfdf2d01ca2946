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
import { openFastTextOnnx, type FastTextOnnx } from './fasttext/onnx-scoring.ts';
import { fastTextFileCard, MODEL_CARD_FILE, readModelCard, type FastTextCard, type ModelCard, type TransformerCard } from './model-card.ts';
import { openFastTextFile } from './fasttext-file/file-scorer.ts';
import { OnnxSession, type OnnxSessionOptions } from '../pipeline/onnx/session.ts';
import { readSafetensors } from '../pipeline/onnx/safetensors.ts';
import { InputError } from '../pipeline/errors.ts';

export interface TextScorer {
  readonly card: ModelCard;
  /** Values per text: classes for classification, 1 for regression. */
  readonly outputs: number;
  /** Scores of `texts`, row-major [texts.length × outputs]. */
  score(texts: readonly string[]): Promise<Float32Array>;
  close(): Promise<void>;
}

/** ONNX Runtime's threads per session (`OnnxSessionOptions`), and what a fastText file named alone lacks. */
export interface ScorerOptions extends Pick<OnnxSessionOptions, 'threads'> {
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
  if (card.format === 'refinery-fasttext/1') return new FastTextScorer(card, await openFastTextOnnx(join(modelDir, card.onnx), { threads: options.threads ?? 1 }));
  const session = await OnnxSession.load(join(modelDir, card.onnx), { threads: options.threads ?? 1 });
  return new TransformerScorer(card, session, await loadTokenizer(modelDir, card), await loadHead(modelDir, card));
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
    private readonly model: FastTextOnnx,
  ) {
    this.hasher = new FeatureHasher(card.features);
    this.outputs = card.model.outputs;
  }

  score(texts: readonly string[]): Promise<Float32Array> {
    return this.model.scores(texts.map((t) => this.hasher.features(t)));
  }

  close(): Promise<void> {
    return this.model.close();
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

/** A linear head applied to pooled states: `weight` [classes × hidden], `bias` [classes]. */
interface LinearHead {
  weight: Float32Array;
  bias: Float32Array;
  hidden: number;
}

async function loadHead(modelDir: string, card: TransformerCard): Promise<LinearHead | undefined> {
  if (card.pooling === 'none') return undefined;
  if (card.head === null) throw new InputError(join(modelDir, MODEL_CARD_FILE), {}, `pooling "${card.pooling}" needs a head: a safetensors file with weight and bias`);
  const path = join(modelDir, card.head);
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new InputError(path, {}, `cannot read the head: ${(e as Error).message}`);
  }
  const tensors = readSafetensors(bytes, path);
  const find = (suffix: string) => tensors.get(suffix) ?? [...tensors].find(([name]) => name.endsWith(`.${suffix}`))?.[1];
  const weight = find('weight');
  const bias = find('bias');
  const classes = card.task === 'regression' ? 1 : card.labels.length;
  if (weight === undefined || bias === undefined || weight.shape.length !== 2 || weight.shape[0] !== classes || bias.data.length !== classes) {
    throw new InputError(path, {}, `the head needs weight [${classes} × hidden] and bias [${classes}] for the card's ${classes} output(s)`);
  }
  return { weight: weight.data, bias: bias.data, hidden: weight.shape[1]! };
}

/** Round half to even, as Python's round(): FineWeb-Edu's int_score = int(round(max(0, min(score, 5)))). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

class TransformerScorer implements TextScorer {
  readonly outputs: number;
  private readonly pad: bigint;

  constructor(
    readonly card: TransformerCard,
    private readonly session: OnnxSession,
    private readonly tokenizer: Tokenizer,
    private readonly head: LinearHead | undefined,
  ) {
    this.outputs = card.task === 'regression' ? 1 : card.labels.length;
    this.pad = BigInt(tokenizer.token_to_id('<pad>') ?? tokenizer.token_to_id('[PAD]') ?? 0);
  }

  /** Token ids with special tokens, cut to max_length keeping the final special token ([SEP], </s>). */
  private encode(text: string): number[] {
    const { max_length: max } = this.card;
    // Tokens are rarely under 1 character: cutting the text first bounds the work.
    const ids = this.tokenizer.encode(text.slice(0, max * 16)).ids;
    if (ids.length <= max) return ids;
    return [...ids.slice(0, max - 1), ids[ids.length - 1]!];
  }

  /**
   * Texts are run in groups of `batch_size` of similar token counts (sorted by length, ties in
   * input order), each padded to its longest: far less padding than the stage's whole batch.
   */
  async score(texts: readonly string[]): Promise<Float32Array> {
    const k = this.outputs;
    const scores = new Float32Array(texts.length * k);
    const encoded = texts.map((t) => this.encode(t));
    const order = encoded.map((_, i) => i).sort((a, b) => encoded[a]!.length - encoded[b]!.length || a - b);
    for (let at = 0; at < order.length; at += this.card.batch_size) {
      const group = order.slice(at, at + this.card.batch_size);
      const rows = await this.run(group.map((i) => encoded[i]!));
      group.forEach((i, r) => scores.set(rows.subarray(r * k, r * k + k), i * k));
    }
    return scores;
  }

  /** Scores of one padded batch, row-major [encoded.length × outputs]. */
  private async run(encoded: number[][]): Promise<Float32Array> {
    const width = Math.max(1, ...encoded.map((e) => e.length));
    const n = encoded.length;
    const ids = new BigInt64Array(n * width).fill(this.pad);
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
    const result = out[card.output]!;
    const logits = this.head ? this.applyHead(this.head, result.data as Float32Array, result.dims, encoded) : (result.data as Float32Array);
    return this.activate(logits, n);
  }

  /** Pools the last hidden state [n, width, hidden] as the card says, then the linear head. */
  private applyHead(head: LinearHead, states: Float32Array, dims: readonly number[], encoded: number[][]): Float32Array {
    const [n, width, hidden] = [dims[0] ?? 0, dims[1] ?? 0, dims[2] ?? 0];
    if (dims.length !== 3 || hidden !== head.hidden) {
      throw new InputError(this.card.output, {}, `expected the hidden states [batch, tokens, ${head.hidden}], got [${dims.join(', ')}]`);
    }
    const classes = head.bias.length;
    const logits = new Float32Array(n * classes);
    const pooled = new Float64Array(hidden);
    for (let r = 0; r < n; r++) {
      pooled.fill(0);
      const tokens = this.card.pooling === 'cls' ? 1 : encoded[r]!.length;
      for (let t = 0; t < tokens; t++) for (let d = 0; d < hidden; d++) pooled[d]! += states[(r * width + t) * hidden + d]!;
      for (let d = 0; d < hidden; d++) pooled[d]! /= Math.max(1, tokens);
      for (let c = 0; c < classes; c++) {
        let z = head.bias[c]!;
        for (let d = 0; d < hidden; d++) z += head.weight[c * hidden + d]! * pooled[d]!;
        logits[r * classes + c] = z;
      }
    }
    return logits;
  }

  private activate(logits: Float32Array, n: number): Float32Array {
    const { card } = this;
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
