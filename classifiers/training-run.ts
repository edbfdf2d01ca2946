/**
 * `refinery classify train`: labels JSONL (`id`, `text`, `label`) in, a model folder out:
 * model.onnx, card.json (labels, threshold, feature hashing, metrics, data hash) and
 * metrics.json. The data are split (seeded) into train / validation / test: the model learns
 * on train; epochs, learning rate, word n-grams and dimension not given by the user are searched
 * on validation (fasttext/autotune.ts); the binary threshold is the F1-best on validation; the
 * metrics, beside the baselines a model must beat, are on test.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { FeatureHasher, FeatureOptions } from './fasttext/features.ts';
import { SgdOptions, trainFastText, type TrainingExample } from './fasttext/train.ts';
import { fastTextToOnnx } from './fasttext/export-onnx.ts';
import type { FastTextModel, TaskKind } from './fasttext/model.ts';
import { autotune, REFERENCE_UPDATES_PER_SECOND, TUNED_KEYS, type AutotuneResult, type TunedSettings } from './fasttext/autotune.ts';
import { bestF1Threshold, binaryMetrics, classificationBaselines, classificationMetrics, regressionBaseline, regressionMetrics } from './metrics.ts';
import { MODEL_CARD_FILE, type FastTextCard } from './model-card.ts';
import { SeededRandom } from '../pipeline/seeded-random.ts';
import { readDocs } from '../pipeline/io/read.ts';
import { stableJson, writeFileAtomic } from '../pipeline/io/atomic.ts';
import { ConfigError, InputError, RefineryError } from '../pipeline/errors.ts';
import { describeWhere } from '../pipeline/io/read-item.ts';

export const TrainRunOptions = FeatureOptions.extend(SgdOptions.shape).extend({
  task: z.enum(['auto', 'binary', 'multiclass', 'regression']).default('auto').describe("'auto': numbers other than 0/1 → regression, two classes → binary, more → multiclass."),
  positive_label: z.string().optional().describe('Binary: the class scored as positive (default: "1", "true", "yes", "high", else the last in sorted order).'),
  test_fraction: z.number().min(0).max(0.9).default(0.2).describe('Share held out for the reported metrics.'),
  valid_fraction: z.number().min(0).max(0.9).default(0.1).describe('Share held out for choosing the threshold.'),
  regression_threshold: z.number().default(3).describe('Regression: score cut reported as a binary F1 (FineWeb-Edu §4: 3 on the 0–5 scale).'),
  seed: z.number().int().default(0).describe('Seed of the split, the initialisation, the example order and the autotune candidates.'),
  autotune_seconds: z.number().min(0).default(60).describe('Budget of the search for epochs, lr, word_ngrams and dim (those not given) on the validation split, in reference seconds: counted as estimated SGD updates (100 M per second), so the result does not depend on the machine; 0 = no search.'),
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
  /** The model does not beat the baselines by a clear margin (and other things the user must know). */
  warnings: string[];
}

/** A model should beat the best constant prediction by this much (F1, macro F1, or 5% of RMSE). */
export const CLEAR_MARGIN = 0.05;

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

/**
 * The labels file's rows. Lines that are not a labelled document's record (malformed JSON, no
 * text) are `malformed`, told apart from records without a label (an LLM answer that could not
 * be parsed is written with label null), which are `unlabelled`.
 */
interface LabelRows {
  rows: LabelledText[];
  unlabelled: number;
  malformed: number;
  /** Where the first malformed line is and what is wrong with it. */
  firstMalformed?: string;
}

async function readLabels(file: string, options: TrainRunOptions): Promise<LabelRows> {
  const out: LabelRows = { rows: [], unlabelled: 0, malformed: 0 };
  for await (const item of readDocs(file, { textField: options.text_field })) {
    if (item.kind === 'error') {
      out.malformed++;
      out.firstMalformed ??= `${describeWhere(item.where)}: ${item.error}`;
      continue;
    }
    const label = item.doc.meta[options.label_field];
    if (typeof label === 'number' && Number.isFinite(label)) out.rows.push({ id: item.doc.id, text: item.doc.text, label });
    else if (typeof label === 'string' && label !== '') out.rows.push({ id: item.doc.id, text: item.doc.text, label });
    else if (typeof label === 'boolean') out.rows.push({ id: item.doc.id, text: item.doc.text, label: String(label) });
    else out.unlabelled++;
  }
  return out;
}

/** The first weight array of the model holding NaN or an infinity, or null when every weight is finite. */
function nonFiniteWeights(model: FastTextModel): string | null {
  const arrays: [string, ArrayLike<number>][] = [['embedding', model.embedding], ['w1', model.w1], ['b1', model.b1], ['w2', model.w2], ['b2', model.b2], ['target scale', [model.targetShift, model.targetScale]]];
  for (const [name, values] of arrays) for (let i = 0; i < values.length; i++) if (!Number.isFinite(values[i]!)) return name;
  return null;
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

interface TargetRow {
  text: string;
  target: number;
}

function splitRows(rows: TargetRow[], options: TrainRunOptions): { train: TargetRow[]; valid: TargetRow[]; test: TargetRow[] } {
  const order = new SeededRandom(options.seed).shuffle(rows.map((_, i) => i));
  const nTest = Math.round(rows.length * options.test_fraction);
  const nValid = Math.round(rows.length * options.valid_fraction);
  return {
    test: order.slice(0, nTest).map((i) => rows[i]!),
    valid: order.slice(nTest, nTest + nValid).map((i) => rows[i]!),
    train: order.slice(nTest + nValid).map((i) => rows[i]!),
  };
}

/**
 * The splits' features for a word n-gram order (the only tuned setting that changes features).
 * One order is held at a time (hashing again is cheap next to training; three orders of a large
 * label set would not fit), its feature counts for every order seen.
 */
function featureSplits(rows: ReturnType<typeof splitRows>, options: TrainRunOptions): { splits: (wordNgrams: number) => Splits; counts: (wordNgrams: number) => { train: number; valid: number } } {
  let held: { wordNgrams: number; splits: Splits } | undefined;
  const counts = new Map<number, { train: number; valid: number }>();
  const splits = (wordNgrams: number): Splits => {
    if (held?.wordNgrams !== wordNgrams) {
      held = undefined;
      const hasher = new FeatureHasher({ ...options, word_ngrams: wordNgrams });
      const hash = (set: TargetRow[]) => set.map((r) => ({ ids: hasher.features(r.text), target: r.target }));
      held = { wordNgrams, splits: { train: hash(rows.train), valid: hash(rows.valid), test: hash(rows.test) } };
      counts.set(wordNgrams, { train: featureCount(held.splits.train), valid: featureCount(held.splits.valid) });
    }
    return held.splits;
  };
  return {
    splits,
    counts: (wordNgrams) => {
      if (!counts.has(wordNgrams)) splits(wordNgrams);
      return counts.get(wordNgrams)!;
    },
  };
}

function featureCount(set: TrainingExample[]): number {
  let n = 0;
  for (const e of set) n += e.ids.length;
  return n;
}

/**
 * The search's objective on validation: binary, the mean of F1 (at the F1-best threshold) and
 * ROC AUC (a small validation split makes F1 alone jump by whole documents); multi-class, the
 * mean of macro F1 and accuracy; regression, minus the RMSE.
 */
function validationObjective(model: FastTextModel, task: TaskKind, labels: string[], valid: TrainingExample[]): number {
  if (task === 'regression') {
    const m = regressionMetrics(valid.map((e) => e.target), valid.map((e) => model.predict(e.ids)[0]!), 0);
    return -m.rmse;
  }
  if (task === 'binary') {
    const scores = valid.map((e) => model.predict(e.ids)[1]!);
    const positive = valid.map((e) => e.target === 1);
    const m = binaryMetrics(scores, positive, bestF1Threshold(scores, positive), [labels[0]!, labels[1]!]);
    return (m.f1 + m.roc_auc) / 2;
  }
  const m = classificationMetrics(labels, valid.map((e) => e.target), valid.map((e) => argmax(model.predict(e.ids))));
  return (m.macro_f1 + m.accuracy) / 2;
}

function argmax(p: Float64Array): number {
  let best = 0;
  for (let c = 1; c < p.length; c++) if (p[c]! > p[best]!) best = c;
  return best;
}

interface Evaluation {
  metrics: Record<string, unknown>;
  threshold: number | null;
  summary: string[];
  warnings: string[];
}

const f3 = (x: number) => x.toFixed(3);

/** Held-out metrics on test (on train when there is no test split); a binary threshold chosen on validation. */
function evaluate(model: FastTextModel, task: TaskKind, labels: string[], splits: Splits, options: TrainRunOptions): Evaluation {
  const { train, valid, test } = splits;
  const evalSet = test.length > 0 ? test : train;
  const evalName = test.length > 0 ? 'test' : 'train (no test split)';
  if (task === 'regression') {
    const threshold = options.regression_threshold;
    const m = regressionMetrics(evalSet.map((e) => e.target), evalSet.map((e) => model.predict(e.ids)[0]!), threshold);
    const baseline = regressionBaseline(train.map((e) => e.target), evalSet.map((e) => e.target), threshold);
    const beats = m.rmse <= baseline.rmse * (1 - CLEAR_MARGIN);
    return {
      metrics: { task, split: evalName, test: m, baselines: { train_mean: baseline } },
      threshold,
      summary: [
        `${evalName}: n=${m.examples} pearson=${f3(m.pearson)} spearman=${f3(m.spearman)} mae=${f3(m.mae)} rmse=${f3(m.rmse)}`,
        `F1 at score ≥ ${threshold}: ${f3(m.binary_at_threshold.f1)} (precision ${f3(m.binary_at_threshold.precision)}, recall ${f3(m.binary_at_threshold.recall)})`,
        `baseline (every document scored the train mean ${baseline.prediction.toFixed(3)}): rmse=${f3(baseline.rmse)} mae=${f3(baseline.mae)}`,
      ],
      warnings: beats ? [] : [`the model's RMSE (${f3(m.rmse)}) is not ${CLEAR_MARGIN * 100}% below the train-mean baseline's (${f3(baseline.rmse)}): it has learned little; more labels, or other features, are needed`],
    };
  }
  if (task === 'binary') {
    const positiveScores = (set: TrainingExample[]) => set.map((e) => model.predict(e.ids)[1]!);
    const isPositive = (set: TrainingExample[]) => set.map((e) => e.target === 1);
    const threshold = valid.length > 0 ? bestF1Threshold(positiveScores(valid), isPositive(valid)) : 0.5;
    const pair: [string, string] = [labels[0]!, labels[1]!];
    const m = binaryMetrics(positiveScores(evalSet), isPositive(evalSet), threshold, pair);
    const at05 = binaryMetrics(positiveScores(evalSet), isPositive(evalSet), 0.5, pair);
    const baselines = classificationBaselines(labels, train.map((e) => e.target), evalSet.map((e) => e.target), true);
    const allPositive = baselines.all_positive!;
    const majority = baselines.majority_class;
    const bestBaselineF1 = Math.max(allPositive.f1, majority.f1 ?? 0);
    const warnings: string[] = [];
    if (m.f1 < bestBaselineF1 + CLEAR_MARGIN) {
      warnings.push(`the model's F1 (${f3(m.f1)}) does not beat the baseline F1 (${f3(bestBaselineF1)}, ${allPositive.f1 >= (majority.f1 ?? 0) ? 'every document positive' : `always "${majority.label}"`}) by ${CLEAR_MARGIN}: it has learned little; more labels, or other features, are needed`);
    }
    if (m.accuracy < majority.accuracy + CLEAR_MARGIN / 2) {
      warnings.push(`the model's accuracy (${f3(m.accuracy)}) is barely above always answering "${majority.label}" (${f3(majority.accuracy)})`);
    }
    return {
      metrics: { task, split: evalName, test: m, test_at_0_5: at05, threshold_chosen_on: valid.length > 0 ? 'validation F1' : 'default 0.5', baselines },
      threshold,
      summary: [
        `${evalName}: n=${m.examples} F1=${f3(m.f1)} precision=${f3(m.precision)} recall=${f3(m.recall)} accuracy=${f3(m.accuracy)} ROC AUC=${f3(m.roc_auc)} (threshold ${threshold.toFixed(4)} from ${valid.length > 0 ? 'validation' : 'default'})`,
        `F1 at threshold 0.5: ${f3(at05.f1)}`,
        `baselines: every document positive F1=${f3(allPositive.f1)} accuracy=${f3(allPositive.accuracy)}; always "${majority.label}" F1=${f3(majority.f1 ?? 0)} accuracy=${f3(majority.accuracy)}`,
        `confusion [actual][predicted] (${pair.join(', ')}): ${JSON.stringify(m.confusion)}`,
      ],
      warnings,
    };
  }
  const predicted = evalSet.map((e) => argmax(model.predict(e.ids)));
  const m = classificationMetrics(labels, evalSet.map((e) => e.target), predicted);
  const baselines = classificationBaselines(labels, train.map((e) => e.target), evalSet.map((e) => e.target), false);
  const majority = baselines.majority_class;
  const warnings: string[] = [];
  if (m.macro_f1 < majority.macro_f1 + CLEAR_MARGIN || m.accuracy < majority.accuracy + CLEAR_MARGIN / 2) {
    warnings.push(`the model (accuracy ${f3(m.accuracy)}, macro F1 ${f3(m.macro_f1)}) does not clearly beat always answering "${majority.label}" (accuracy ${f3(majority.accuracy)}, macro F1 ${f3(majority.macro_f1)}): more labels, or other features, are needed`);
  }
  return {
    metrics: { task, split: evalName, test: m, baselines },
    threshold: null,
    summary: [
      `${evalName}: n=${m.examples} accuracy=${f3(m.accuracy)} macro F1=${f3(m.macro_f1)}`,
      ...m.per_class.map((c) => `  ${c.label}: precision ${f3(c.precision)} recall ${f3(c.recall)} F1 ${f3(c.f1)} (n=${c.support})`),
      `baseline: always "${majority.label}" accuracy=${f3(majority.accuracy)} macro F1=${f3(majority.macro_f1)}`,
    ],
    warnings,
  };
}

/** What the card says about the search: the budget, what was searched, the starting and the chosen settings, every candidate. */
function autotuneRecord(options: TrainRunOptions, fixed: ReadonlySet<string>, result: AutotuneResult | null, skippedBecause: string | null): Record<string, unknown> {
  if (!result) return { searched: [], reason: skippedBecause };
  const round = (x: number) => Number(x.toFixed(6));
  return {
    budget_seconds: options.autotune_seconds,
    budget_updates: result.budgetUpdates,
    reference_updates_per_second: REFERENCE_UPDATES_PER_SECOND,
    used_updates: result.usedUpdates,
    stopped: result.stopped,
    searched: TUNED_KEYS.filter((k) => !fixed.has(k)),
    objective: 'validation: binary (F1 + ROC AUC) / 2, multiclass (macro F1 + accuracy) / 2, regression −RMSE',
    start: { ...result.trials[0]!.settings, objective: round(result.startObjective) },
    best: { ...result.best, objective: round(result.bestObjective) },
    trials: result.trials.map((t) => ({ ...t.settings, objective: round(t.objective) })),
  };
}

async function modelCard(labelsFile: string, rows: LabelledText[], skipped: { unlabelled: number; malformed: number }, task: TaskKind, labels: string[], splits: Splits, e: Evaluation, options: TrainRunOptions, autotuneInfo: Record<string, unknown>): Promise<FastTextCard> {
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
      skipped_without_label: skipped.unlabelled,
      skipped_malformed: skipped.malformed,
      label_counts: labelCounts,
      train: splits.train.length,
      validation: splits.valid.length,
      test: splits.test.length,
      seed: options.seed,
      lr: options.lr,
      epochs: options.epochs,
      autotune: autotuneInfo,
    },
  };
}

export async function trainFromLabels(labelsFile: string, outDir: string, opts: Partial<TrainRunOptions> = {}): Promise<TrainRunResult> {
  const given = parseTrainOptions(opts);
  const labelRows = await readLabels(labelsFile, given);
  const { rows, unlabelled, malformed } = labelRows;
  if (rows.length < 10) {
    const why = malformed ? `; ${malformed} malformed lines (first: ${labelRows.firstMalformed})` : '';
    throw new InputError(labelsFile, {}, `only ${rows.length} usable labelled documents${why}; training needs at least 10`);
  }
  const task = chooseTask(rows, given.task);
  const labels = outputLabels(labelsFile, rows, task, given);
  const classIndex = new Map(labels.map((l, i) => [l, i]));
  const rowSplits = splitRows(
    rows.map((r) => ({ text: r.text, target: task === 'regression' ? Number(r.label) : classIndex.get(String(r.label))! })),
    given,
  );
  if (rowSplits.train.length === 0) throw new InputError(labelsFile, {}, 'no training examples left after the held-out splits');
  const { splits: featuresFor, counts: featureCounts } = featureSplits(rowSplits, given);
  const shape = { task, buckets: given.buckets, outputs: labels.length };

  const started = performance.now();
  const fixed = new Set<string>(TUNED_KEYS.filter((k) => opts[k] !== undefined));
  const searchable = TUNED_KEYS.some((k) => !fixed.has(k));
  const skippedBecause =
    given.autotune_seconds === 0 ? 'autotune_seconds is 0' : !searchable ? 'epochs, lr, word_ngrams and dim all given' : rowSplits.valid.length === 0 ? 'no validation split' : null;
  let tuned: AutotuneResult | null = null;
  if (skippedBecause === null) {
    tuned = autotune({
      start: { epochs: given.epochs, lr: given.lr, word_ngrams: given.word_ngrams, dim: given.dim },
      fixed: fixed as ReadonlySet<keyof TunedSettings>,
      seconds: given.autotune_seconds,
      seed: given.seed,
      buckets: given.buckets,
      featureCounts,
      train: (t) => trainFastText(featuresFor(t.word_ngrams).train, shape, { ...given, ...t }, given.seed + 1),
      score: (model, t) => validationObjective(model, task, labels, featuresFor(t.word_ngrams).valid),
    });
  }
  const options: TrainRunOptions = tuned ? { ...given, ...tuned.best } : given;
  const splits = featuresFor(options.word_ngrams);
  const searchSeconds = (performance.now() - started) / 1000;
  const model = trainFastText(splits.train, shape, options, options.seed + 1);
  const diverged = nonFiniteWeights(model);
  if (diverged) {
    // A model of NaN scores every document alike, and ONNX Runtime would carry the NaN into every score.
    throw new RefineryError(
      `classify train: training diverged: the model's ${diverged} weights became NaN or infinite with lr ${options.lr}${tuned ? ' (chosen by autotune)' : ''} over ${options.epochs} epochs; give a smaller --lr (the default is 0.1); no model was written`,
    );
  }
  const trainSeconds = (performance.now() - started) / 1000 - searchSeconds;
  const evaluation = evaluate(model, task, labels, splits, options);
  const card = await modelCard(labelsFile, rows, { unlabelled, malformed }, task, labels, splits, evaluation, options, autotuneRecord(given, fixed, tuned, skippedBecause));
  await writeFileAtomic(join(outDir, 'model.onnx'), fastTextToOnnx(model, { refinery_card: MODEL_CARD_FILE }));
  await writeFileAtomic(join(outDir, 'metrics.json'), stableJson(evaluation.metrics));
  await writeFileAtomic(join(outDir, MODEL_CARD_FILE), stableJson(card));
  const { train, valid, test } = splits;
  const chosen = `epochs=${options.epochs} lr=${options.lr} word_ngrams=${options.word_ngrams} dim=${options.dim}`;
  const summary = [
    `trained ${task} classifier on ${train.length} examples (${valid.length} validation, ${test.length} test; ${unlabelled} without a label skipped${malformed ? `, ${malformed} malformed lines skipped` : ''}) in ${trainSeconds.toFixed(2)} s`,
    tuned
      ? `autotune: ${tuned.trials.length} candidates on validation in ${searchSeconds.toFixed(1)} s (budget ${given.autotune_seconds} reference s, ${tuned.stopped === 'budget' ? 'spent' : tuned.stopped === 'max_trials' ? 'candidate limit reached' : 'nothing left to try'}); chose ${chosen} (objective ${f3(tuned.bestObjective)}, defaults ${f3(tuned.startObjective)})`
      : `autotune off (${skippedBecause}): ${chosen}`,
    ...evaluation.summary,
  ];
  const warnings = malformed ? [`${malformed} lines of ${labelsFile} are not labelled documents and were skipped (first: ${labelRows.firstMalformed})`, ...evaluation.warnings] : evaluation.warnings;
  return { card, model, metrics: evaluation.metrics, summary, warnings };
}
