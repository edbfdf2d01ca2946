/**
 * The JSON card beside a model's ONNX file (`card.json` in the model folder): what the model
 * predicts, how its inputs are made, the threshold picked at training time, the held-out
 * metrics beside the baselines a model must beat (`metrics.baselines`), the hash of the training
 * data and how the settings were chosen (`training.autotune`). The scorer reads only this file
 * and the ONNX file.
 *
 * Three formats: `refinery-fasttext/1` (trained here; features are computed by
 * classifiers/fasttext/features.ts), `hf-sequence-classification/1` (a Hugging Face
 * transformer exported to ONNX, with its tokenizer.json; see docs/classifiers.md) and
 * `fasttext-file/1` (a model file of fastText itself, `.bin` or `.ftz`, such as DCLM's). A
 * fastText file may also be named directly as the model, without a card (`fastTextFileCard`).
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { FeatureOptions } from './fasttext/features.ts';
import { InputError } from '../pipeline/errors.ts';

export const MODEL_CARD_FILE = 'card.json';

/** What every card says of the model's outputs and how it was made. */
const Outputs = {
  task: z.enum(['binary', 'multiclass', 'regression']),
  /** Class names in output order; ['score'] for regression. */
  labels: z.array(z.string()).min(1),
  /** Binary: the class whose probability is the score. */
  positive_label: z.string().nullable().default(null),
  /** Binary: probability at or above which a document is positive; regression: the score cut. */
  threshold: z.number().nullable().default(null),
  metrics: z.record(z.string(), z.unknown()).default({}),
  training: z.record(z.string(), z.unknown()).default({}),
};

const Common = {
  ...Outputs,
  /** ONNX file, relative to the card. */
  onnx: z.string().default('model.onnx'),
};

export const FastTextCard = z.object({
  format: z.literal('refinery-fasttext/1'),
  ...Common,
  features: FeatureOptions,
  model: z.object({ dim: z.number().int(), hidden: z.number().int(), buckets: z.number().int(), outputs: z.number().int() }),
});
export type FastTextCard = z.infer<typeof FastTextCard>;

export const TransformerCard = z.object({
  format: z.literal('hf-sequence-classification/1'),
  ...Common,
  /** tokenizer.json (Hugging Face tokenizers format), relative to the card. */
  tokenizer: z.string().default('tokenizer.json'),
  /** The model's Hugging Face config.json: labels, task and activation when the card does not give them. */
  config: z.string().default('config.json'),
  /** Tokens per document, including special tokens (DistilRoBERTa / BERT: 512). */
  max_length: z.number().int().min(2).default(512),
  /** Texts per ONNX Runtime call: a batch of the stage is cut into runs of texts of similar length. */
  batch_size: z.number().int().min(1).default(16),
  /** Graph input names: ids, mask, and token_type_ids when the model has them (BERT). */
  input_ids: z.string().default('input_ids'),
  attention_mask: z.string().default('attention_mask'),
  token_type_ids: z.string().nullable().default(null),
  /**
   * Graph output: logits [batch, classes] (or [batch, 1] for regression) when the head is in the
   * graph; the encoder's last_hidden_state [batch, tokens, hidden] when `pooling` is set.
   */
  output: z.string().default('logits'),
  /** `cls`: the first token's state; `mean`: the mean over the unmasked tokens; `none`: the output is already logits. */
  pooling: z.enum(['none', 'cls', 'mean']).default('none'),
  /** With pooling: a safetensors file holding the linear head, `weight` [classes × hidden] and `bias` [classes]. */
  head: z.string().nullable().default(null),
  /** How logits become scores: softmax over classes, sigmoid of one logit, or as they are. */
  activation: z.enum(['softmax', 'sigmoid', 'none']).default('softmax'),
  /** Regression: also write the score rounded (half to even, as Python's round) into [min, max] (FineWeb-Edu's int_score). */
  int_score: z.boolean().default(false),
  score_range: z.tuple([z.number(), z.number()]).default([0, 5]),
});
export type TransformerCard = z.infer<typeof TransformerCard>;

export const FastTextFileCard = z.object({
  format: z.literal('fasttext-file/1'),
  ...Outputs,
  task: z.enum(['binary', 'multiclass']),
  /** The model's labels without `__label__`, in its output order; checked against the file. */
  labels: z.array(z.string()).min(1),
  /** The fastText model file (`.bin` or `.ftz`), relative to the card. */
  file: z.string().default('model.bin'),
});
export type FastTextFileCard = z.infer<typeof FastTextFileCard>;

export const ModelCard = z.discriminatedUnion('format', [FastTextCard, TransformerCard, FastTextFileCard]);
export type ModelCard = z.infer<typeof ModelCard>;

/** Labels that name the positive class of a binary model (DCLM's is `hq`). */
const POSITIVE_NAMES = ['1', 'true', 'yes', 'high', 'good', 'positive', 'pos', 'hq'];

/**
 * The card of a fastText file named without one: two labels make a binary task whose positive
 * class is `positiveLabel`, else the one of POSITIVE_NAMES; more make a multi-class task.
 */
export function fastTextFileCard(file: string, labels: string[], positiveLabel: string | undefined): FastTextFileCard {
  const binary = labels.length === 2;
  const positive = positiveLabel ?? (binary ? labels.find((l) => POSITIVE_NAMES.includes(l.toLowerCase())) : undefined);
  if (binary && positive === undefined) {
    throw new InputError(file, {}, `which of its labels (${labels.join(', ')}) is the positive class? Give the quality stage's positive_label (--positive-label)`);
  }
  if (positive !== undefined && !labels.includes(positive)) throw new InputError(file, {}, `positive_label "${positive}" is not one of its labels (${labels.join(', ')})`);
  return { format: 'fasttext-file/1', task: binary ? 'binary' : 'multiclass', labels, positive_label: positive ?? null, threshold: null, file, metrics: {}, training: {} };
}

export async function readModelCard(modelDir: string): Promise<ModelCard> {
  const path = join(modelDir, MODEL_CARD_FILE);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InputError(path, {}, `no model card: a model folder holds ${MODEL_CARD_FILE} and the ONNX file (made by "refinery classify train")`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new InputError(path, {}, `malformed JSON: ${(e as Error).message}`);
  }
  if (isRecord(json) && json.format === 'hf-sequence-classification/1') json = { ...(await configDefaults(modelDir, json)), ...json };
  const parsed = ModelCard.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(path, {}, `${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  return parsed.data;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * What the Hugging Face config.json beside the model says, as card fields the card itself may
 * override: the labels in id order (`id2label`) and the task and activation from `problem_type`
 * (as transformers decides: one label without a problem type is a regression). Nothing when the
 * file is absent.
 */
async function configDefaults(modelDir: string, card: Record<string, unknown>): Promise<Record<string, unknown>> {
  const path = join(modelDir, typeof card.config === 'string' ? card.config : 'config.json');
  let config: unknown;
  try {
    config = JSON.parse(await readFile(path, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw new InputError(path, {}, `cannot read the model's config: ${(e as Error).message}`);
  }
  const out: Record<string, unknown> = {};
  if (card.pooling !== undefined && card.pooling !== 'none') out.output = 'last_hidden_state';
  if (!isRecord(config) || !isRecord(config.id2label)) return out;
  const labels = Object.entries(config.id2label)
    .sort(([a], [b]) => Number(a) - Number(b))
    .map(([, l]) => String(l));
  const problem = config.problem_type ?? (labels.length === 1 ? 'regression' : 'single_label_classification');
  if (problem === 'regression') return { ...out, task: 'regression', labels: ['score'], activation: 'none' };
  return { ...out, task: labels.length === 2 ? 'binary' : 'multiclass', labels, activation: problem === 'multi_label_classification' ? 'sigmoid' : 'softmax' };
}
