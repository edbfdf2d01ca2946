/**
 * The `quality` stage: scores documents with a classifier model folder (trained by
 * `refinery classify train`, or a Hugging Face model brought with its tokenizer) in batches
 * through ONNX Runtime. Writes `meta.<field>` (positive-class probability, regression score, or
 * for a multi-class model the top class, e.g. a topic into `meta.category`) and, for scores,
 * `meta.<field>_band` from cut points, which the mix planner groups by. It only drops
 * documents when a threshold (or, for classes, a keep list) is configured: annotate once,
 * decide many times. Source code (as the filters recognise it, text/code-detection.ts) is
 * skipped by default: a prose model has nothing to say about it.
 */
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { defineStage, drop, KEEP, type DocStage, type StageContext, type Verdict } from '../pipeline/stage.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { openScorer, roundHalfEven } from './scorer.ts';
import type { ModelCard } from './model-card.ts';
import { isCode } from '../text/code-detection.ts';
import { bandOf } from './bands.ts';

export const qualityOptions = z.object({
  model: z.string().min(1).describe('Model folder (card.json + ONNX file), or a fastText model file (.bin/.ftz, e.g. DCLM\'s), relative to the pipeline file.'),
  positive_label: z.string().min(1).optional().describe('A fastText file without a card: the label whose probability is the score of a binary model (DCLM: "hq"); default: 1/true/yes/high/good/positive/pos/hq.'),
  field: z.string().min(1).default('quality').describe('meta key written: "quality" for a quality model, "category" for a topic model.'),
  threshold: z.union([z.number(), z.literal('card')]).optional().describe('Drop below this score; "card" = the threshold chosen at training time; unset = annotate only.'),
  keep_labels: z.array(z.string()).optional().describe('Multi-class: keep only these classes; unset keeps all.'),
  band_cuts: z.array(z.number()).optional().describe('Ascending cut points of the bands; default: [threshold / 2, threshold] for probabilities, [threshold − 1, threshold] for scores.'),
  band_names: z.array(z.string().min(1)).default(['low', 'mid', 'high']).describe('Band names, one more than the cut points.'),
  batch_size: z.number().int().min(1).max(65536).default(256).describe('Documents per ONNX Runtime call.'),
  skip_code: z.boolean().default(true).describe('Leave source code (text/code-detection.ts, as the prose filters skip it) unscored, meta.<field> unset; ours.'),
}).strict();
export type QualityOptions = z.infer<typeof qualityOptions>;

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export function defaultBandCuts(card: ModelCard): number[] {
  if (card.task === 'regression') {
    const t = card.threshold ?? 3;
    return [t - 1, t];
  }
  const t = card.threshold ?? 0.5;
  return [t / 2, t];
}

/** Checks the options against the model card; returns the resolved threshold, band cuts and positive class. */
function checkOptions(options: QualityOptions, card: ModelCard, modelDir: string, where: string): { threshold: number | undefined; cuts: number[]; positive: number } {
  const numeric = card.task !== 'multiclass';
  let threshold: number | undefined;
  if (options.threshold === 'card') {
    if (card.threshold === null) throw new ConfigError('pipeline', `${where}.threshold`, `the model card in ${modelDir} has no threshold`);
    threshold = card.threshold;
  } else threshold = options.threshold;
  if (!numeric && threshold !== undefined) throw new ConfigError('pipeline', `${where}.threshold`, 'a multi-class model is filtered with keep_labels, not a threshold');
  if (numeric && options.keep_labels) throw new ConfigError('pipeline', `${where}.keep_labels`, `keep_labels needs a multi-class model; ${modelDir} is ${card.task}`);
  for (const l of options.keep_labels ?? []) {
    if (!card.labels.includes(l)) throw new ConfigError('pipeline', `${where}.keep_labels`, `"${l}" is not a label of the model (${card.labels.join(', ')})`);
  }
  const cuts = options.band_cuts ?? defaultBandCuts(card);
  if (cuts.some((c, i) => i > 0 && c < cuts[i - 1]!)) throw new ConfigError('pipeline', `${where}.band_cuts`, 'cut points must be ascending');
  if (options.band_names.length !== cuts.length + 1) {
    throw new ConfigError('pipeline', `${where}.band_names`, `${cuts.length} cut points need ${cuts.length + 1} band names, got ${options.band_names.length}`);
  }
  const positive = card.task === 'binary' ? card.labels.indexOf(card.positive_label ?? card.labels[1]!) : 0;
  if (positive < 0 || (card.task === 'binary' && card.labels.length !== 2)) {
    throw new ConfigError('pipeline', `${where}.model`, `the model card in ${modelDir} needs two labels and a positive_label among them for a binary task`);
  }
  return { threshold, cuts, positive };
}

export async function createQualityStage(options: QualityOptions, ctx: StageContext): Promise<DocStage> {
  const where = `${ctx.keyPath}.options`;
  const modelDir = isAbsolute(options.model) ? options.model : resolve(ctx.baseDir, options.model);
  const scorer = await openScorer(modelDir, options.positive_label === undefined ? {} : { positiveLabel: options.positive_label });
  const { card } = scorer;
  let checked: { threshold: number | undefined; cuts: number[]; positive: number };
  try {
    checked = checkOptions(options, card, modelDir, where);
  } catch (e) {
    await scorer.close();
    throw e;
  }
  const { threshold, cuts, positive } = checked;
  const numeric = card.task !== 'multiclass';
  const keep = options.keep_labels ? new Set(options.keep_labels) : null;
  const { field } = options;
  const k = scorer.outputs;
  const intRange = card.format === 'hf-sequence-classification/1' && card.task === 'regression' && card.int_score ? card.score_range : undefined;

  return {
    kind: threshold !== undefined || keep ? 'filter' : 'annotator',
    name: 'quality',
    batchSize: options.batch_size,
    async process(batch): Promise<Verdict[]> {
      const skipped = batch.map((doc) => options.skip_code && isCode(doc));
      batch.forEach((doc, i) => {
        if (skipped[i]) doc.meta[`${field}_skipped`] = 'code';
      });
      const docs = batch.filter((_, i) => !skipped[i]);
      const scores = docs.length > 0 ? await scorer.score(docs.map((d) => d.text)) : new Float32Array(0);
      const verdicts = docs.map((doc, r): Verdict => {
        if (numeric) {
          const value = scores[r * k + positive]!;
          doc.meta[field] = round(value, card.task === 'regression' ? 4 : 6);
          if (intRange) doc.meta[`${field}_int`] = roundHalfEven(Math.max(intRange[0], Math.min(value, intRange[1])));
          doc.meta[`${field}_band`] = bandOf(value, cuts, options.band_names);
          if (threshold !== undefined && value < threshold) return drop('below_threshold', `${round(value, 4)} < ${threshold}`);
          return KEEP;
        }
        let best = 0;
        for (let c = 1; c < k; c++) if (scores[r * k + c]! > scores[r * k + best]!) best = c;
        const label = card.labels[best]!;
        doc.meta[field] = label;
        doc.meta[`${field}_score`] = round(scores[r * k + best]!, 6);
        if (keep && !keep.has(label)) return drop('label_not_kept', label);
        return KEEP;
      });
      let next = 0;
      return skipped.map((skip) => (skip ? KEEP : verdicts[next++]!));
    },
    close: () => scorer.close(),
  };
}

export const qualityStage = defineStage<QualityOptions>({
  name: 'quality',
  kind: 'annotator',
  description: 'ONNX classifier scores: meta.quality (+ _band), or a topic into meta.category (field: category); drops only under a configured threshold',
  options: qualityOptions,
  create: createQualityStage,
});

/** This module's stages, for the registry. */
export const stages = [qualityStage];
