/**
 * `refinery classify train`: labels JSONL (`id`, `text`, `label`) in, a model folder out:
 * model.onnx, card.json (labels, threshold, feature hashing, metrics, data hash) and
 * metrics.json. The data are split (seeded) into train / validation / test: the model learns
 * on train, the binary threshold is the F1-best on validation, the metrics are on test.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FeatureHasher, FeatureOptions } from './fasttext/features.ts';
import { SgdOptions, trainFastText, type TrainingExample } from './fasttext/train.ts';
import { fastTextToOnnx } from './fasttext/export-onnx.ts';
import type { FastTextModel, TaskKind } from './fasttext/model.ts';
import { bestF1Threshold, binaryMetrics, classificationMetrics, regressionMetrics } from './metrics.ts';
import { MODEL_CARD_FILE, type FastTextCard } from './model-card.ts';
import { SeededRandom } from '../pipeline/seeded-random.ts';
import { readDocs } from '../pipeline/io/read.ts';
import { stableJson, writeFileAtomic } from '../pipeline/io/atomic.ts';
import { ConfigError, InputError } from '../pipeline/errors.ts';

export const TrainRunOptions = FeatureOptions.extend(SgdOptions.shape).extend({
  task: z.enum(['auto', 'binary', 'multiclass', 'regression']).default('auto').describe("'auto': numbers other than 0/1 → regression, two classes → binary, more → multiclass."),
  positive_label: z.string().optional().describe('Binary: the class scored as positive (default: "1", "true", "yes", "high", else the last in sorted order).'),
  test_fraction: z.number().min(0).max(0.9).default(0.2).describe('Share held out for the reported metrics.'),
  valid_fraction: z.number().min(0).max(0.9).default(0.1).describe('Share held out for choosing the threshold.'),
  regression_threshold: z.number().default(3).describe('Regression: score cut reported as a binary F1 (FineWeb-Edu §4: 3 on the 0–5 scale).'),
  seed: z.number().int().default(0).describe('Seed of the split, the initialisation and the example order.'),
  label_field: z.string().default('label').describe('Field of the labels file holding the label.'),
  text_field: z.string().default('text').describe('Field of the labels file holding the text.'),
});
export type TrainRunOptions = z.infer<typeof TrainRunOptions>;

export interface TrainRunResult {
  card: FastTextCard;
  model: FastTextModel;
  /** Held-out metrics, as written to metrics.json. */
  metrics: Record<string, unknown>;
  /** Summary lines for the terminal. */
  summary: string[];
}

interface LabelledText {
  id: string;
  text: string;
  label: string | number;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function readLabels(file: string, options: TrainRunOptions): Promise<{ rows: LabelledText[]; skipped: number }> {
  const rows: LabelledText[] = [];
  let skipped = 0;
  for await (const item of readDocs(file, { textField: options.text_field })) {
    if (item.kind === 'error') {
      skipped++;
      continue;
    }
    const label = item.doc.meta[options.label_field];
    if (typeof label === 'number' && Number.isFinite(label)) rows.push({ id: item.doc.id, text: item.doc.text, label });
    else if (typeof label === 'string' && label !== '') rows.push({ id: item.doc.id, text: item.doc.text, label });
    else if (typeof label === 'boolean') rows.push({ id: item.doc.id, text: item.doc.text, label: String(label) });
    else skipped++; // unparsable LLM answers are written with label null
  }
  return { rows, skipped };
}

function chooseTask(rows: LabelledText[], requested: TrainRunOptions['task']): TaskKind {
  if (requested !== 'auto') return requested;
  const distinct = new Set(rows.map((r) => String(r.label)));
  const numeric = rows.every((r) => typeof r.label === 'number');
  if (numeric && [...distinct].some((v) => v !== '0' && v !== '1')) return 'regression';
  return distinct.size <= 2 ? 'binary' : 'multiclass';
}

function classOrder(rows: LabelledText[]): string[] {
  const distinct = [...new Set(rows.map((r) => String(r.label)))];
  const allNumeric = distinct.every((v) => v.trim() !== '' && Number.isFinite(Number(v)));
  return allNumeric ? distinct.sort((a, b) => Number(a) - Number(b)) : distinct.sort();
}

const POSITIVE_NAMES = ['1', 'true', 'yes', 'high', 'good', 'positive', 'pos'];

function parseTrainOptions(opts: Partial<TrainRunOptions>): TrainRunOptions {
  const parsed = TrainRunOptions.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError('refinery classify train', issue.path.join('.'), issue.message);
  }
  const options = parsed.data;
  if (options.minn > 0 && options.maxn < options.minn) {
    throw new ConfigError('refinery classify train', 'maxn', `maxn (${options.maxn}) must be at least minn (${options.minn}) when char n-grams are on`);
  }
  return options;
}

/** The model's outputs in order: a binary task's positive class last, a regression's one score. */
function outputLabels(labelsFile: string, rows: LabelledText[], task: TaskKind, options: TrainRunOptions): string[] {
  if (task === 'regression') {
    if (rows.some((r) => typeof r.label !== 'number' && !Number.isFinite(Number(r.label)))) throw new InputError(labelsFile, {}, 'regression needs numeric labels');
    return ['score'];
  }
  const labels = classOrder(rows);
  if (task !== 'binary') return labels;
  if (labels.length !== 2) throw new InputError(labelsFile, {}, `a binary task needs exactly 2 classes, found ${labels.length}: ${labels.join(', ')}`);
  const positive = options.positive_label ?? labels.find((l) => POSITIVE_NAMES.includes(l.toLowerCase())) ?? labels[1]!;
  if (!labels.includes(positive)) throw new InputError(labelsFile, {}, `positive_label "${positive}" is not one of ${labels.join(', ')}`);
  return [labels.find((l) => l !== positive)!, positive];
}

interface Splits {
  train: TrainingExample[];
  valid: TrainingExample[];
  test: TrainingExample[];
}

function splitExamples(examples: TrainingExample[], options: TrainRunOptions): Splits {
  const order = new SeededRandom(options.seed).shuffle(examples.map((_, i) => i));
  const nTest = Math.round(examples.length * options.test_fraction);
  const nValid = Math.round(examples.length * options.valid_fraction);
  return {
    test: order.slice(0, nTest).map((i) => examples[i]!),
    valid: order.slice(nTest, nTest + nValid).map((i) => examples[i]!),
    train: order.slice(nTest + nValid).map((i) => examples[i]!),
  };
}

interface Evaluation {
  metrics: Record<string, unknown>;
  threshold: number | null;
  summary: string[];
}

/** Held-out metrics on test (on train when there is no test split); a binary threshold chosen on validation. */
function evaluate(model: FastTextModel, task: TaskKind, labels: string[], splits: Splits, options: TrainRunOptions): Evaluation {
  const { train, valid, test } = splits;
  const evalSet = test.length > 0 ? test : train;
  const evalName = test.length > 0 ? 'test' : 'train (no test split)';
  if (task === 'regression') {
    const threshold = options.regression_threshold;
    const m = regressionMetrics(evalSet.map((e) => e.target), evalSet.map((e) => model.predict(e.ids)[0]!), threshold);
    return {
      metrics: { task, split: evalName, test: m },
      threshold,
      summary: [
        `${evalName}: n=${m.examples} pearson=${m.pearson.toFixed(3)} spearman=${m.spearman.toFixed(3)} mae=${m.mae.toFixed(3)} rmse=${m.rmse.toFixed(3)}`,
        `F1 at score ≥ ${threshold}: ${m.binary_at_threshold.f1.toFixed(3)} (precision ${m.binary_at_threshold.precision.toFixed(3)}, recall ${m.binary_at_threshold.recall.toFixed(3)})`,
      ],
    };
  }
  if (task === 'binary') {
    const positiveScores = (set: TrainingExample[]) => set.map((e) => model.predict(e.ids)[1]!);
    const isPositive = (set: TrainingExample[]) => set.map((e) => e.target === 1);
    const threshold = valid.length > 0 ? bestF1Threshold(positiveScores(valid), isPositive(valid)) : 0.5;
    const pair: [string, string] = [labels[0]!, labels[1]!];
    const m = binaryMetrics(positiveScores(evalSet), isPositive(evalSet), threshold, pair);
    const at05 = binaryMetrics(positiveScores(evalSet), isPositive(evalSet), 0.5, pair);
    return {
      metrics: { task, split: evalName, test: m, test_at_0_5: at05, threshold_chosen_on: valid.length > 0 ? 'validation F1' : 'default 0.5' },
      threshold,
      summary: [
        `${evalName}: n=${m.examples} F1=${m.f1.toFixed(3)} precision=${m.precision.toFixed(3)} recall=${m.recall.toFixed(3)} accuracy=${m.accuracy.toFixed(3)} ROC AUC=${m.roc_auc.toFixed(3)} (threshold ${threshold.toFixed(4)} from ${valid.length > 0 ? 'validation' : 'default'})`,
        `F1 at threshold 0.5: ${at05.f1.toFixed(3)}`,
        `confusion [actual][predicted] (${pair.join(', ')}): ${JSON.stringify(m.confusion)}`,
      ],
    };
  }
  const predicted = evalSet.map((e) => {
    const p = model.predict(e.ids);
    let best = 0;
    for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
    return best;
  });
  const m = classificationMetrics(labels, evalSet.map((e) => e.target), predicted);
  return {
    metrics: { task, split: evalName, test: m },
    threshold: null,
    summary: [
      `${evalName}: n=${m.examples} accuracy=${m.accuracy.toFixed(3)} macro F1=${m.macro_f1.toFixed(3)}`,
      ...m.per_class.map((c) => `  ${c.label}: precision ${c.precision.toFixed(3)} recall ${c.recall.toFixed(3)} F1 ${c.f1.toFixed(3)} (n=${c.support})`),
    ],
  };
}

async function modelCard(labelsFile: string, rows: LabelledText[], skipped: number, task: TaskKind, labels: string[], splits: Splits, e: Evaluation, options: TrainRunOptions): Promise<FastTextCard> {
  const labelCounts: Record<string, number> = {};
  for (const r of rows) labelCounts[String(r.label)] = (labelCounts[String(r.label)] ?? 0) + 1;
  return {
    format: 'refinery-fasttext/1',
    task,
    labels,
    positive_label: task === 'binary' ? labels[1]! : null,
    threshold: e.threshold,
    onnx: 'model.onnx',
    features: {
      word_ngrams: options.word_ngrams,
      minn: options.minn,
      maxn: options.maxn,
      buckets: options.buckets,
      max_words: options.max_words,
    },
    model: { dim: options.dim, hidden: options.hidden, buckets: options.buckets, outputs: labels.length },
    metrics: e.metrics,
    training: {
      data: labelsFile.split('/').pop(),
      data_sha256: await sha256File(labelsFile),
      examples: rows.length,
      skipped_without_label: skipped,
      label_counts: labelCounts,
      train: splits.train.length,
      validation: splits.valid.length,
      test: splits.test.length,
      seed: options.seed,
      lr: options.lr,
      epochs: options.epochs,
    },
  };
}

export async function trainFromLabels(labelsFile: string, outDir: string, opts: Partial<TrainRunOptions> = {}): Promise<TrainRunResult> {
  const options = parseTrainOptions(opts);
  const { rows, skipped } = await readLabels(labelsFile, options);
  if (rows.length < 10) throw new InputError(labelsFile, {}, `only ${rows.length} usable labelled documents; training needs at least 10`);
  const task = chooseTask(rows, options.task);
  const labels = outputLabels(labelsFile, rows, task, options);
  const classIndex = new Map(labels.map((l, i) => [l, i]));
  const hasher = new FeatureHasher(options);
  const splits = splitExamples(
    rows.map((r) => ({ ids: hasher.features(r.text), target: task === 'regression' ? Number(r.label) : classIndex.get(String(r.label))! })),
    options,
  );
  if (splits.train.length === 0) throw new InputError(labelsFile, {}, 'no training examples left after the held-out splits');

  const started = performance.now();
  const model = trainFastText(splits.train, { task, buckets: options.buckets, outputs: labels.length }, options, options.seed + 1);
  const trainSeconds = (performance.now() - started) / 1000;
  const evaluation = evaluate(model, task, labels, splits, options);
  const card = await modelCard(labelsFile, rows, skipped, task, labels, splits, evaluation, options);
  await writeFileAtomic(join(outDir, 'model.onnx'), fastTextToOnnx(model, { refinery_card: MODEL_CARD_FILE }));
  await writeFileAtomic(join(outDir, 'metrics.json'), stableJson(evaluation.metrics));
  await writeFileAtomic(join(outDir, MODEL_CARD_FILE), stableJson(card));
  const { train, valid, test } = splits;
  const summary = [
    `trained ${task} classifier on ${train.length} examples (${valid.length} validation, ${test.length} test; ${skipped} without a label skipped) in ${trainSeconds.toFixed(2)} s`,
    ...evaluation.summary,
  ];
  return { card, model, metrics: evaluation.metrics, summary };
}
