/**
 * The `mix-buckets` annotator: gives every document the bucket fields the census, the planner
 * and the sampler read. `meta.category` from the first matching rule (a category a topic
 * classifier already wrote is kept unless `overwrite_category`), and `meta.quality_band` from a
 * score field and thresholds. Put it before `tokenize` so that manifests count by these buckets.
 */
import { z } from 'zod';
import { defineStage, KEEP, type DocStage } from '../pipeline/stage.ts';
import type { Doc } from '../pipeline/doc.ts';
import { isCode } from '../text/code-detection.ts';
import { isNonEnglish, UNKNOWN } from './bucket.ts';
import { bandOf } from '../classifiers/bands.ts';

const ruleSchema = z.strictObject({
  category: z.string().min(1).describe('The category this rule gives.'),
  source: z.array(z.string()).optional().describe('Any of these `meta.source` values.'),
  language: z.array(z.string()).optional().describe('Any of these `meta.language` values.'),
  non_english: z.boolean().optional().describe('A human language other than English (see docs/mixes.md).'),
  code: z.boolean().optional().describe('Source code, as the code rules decide it (`text/code-detection.ts`).'),
  url: z
    .string()
    .refine((s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    }, 'not a valid regular expression')
    .optional()
    .describe('A regular expression that `meta.url` must match.'),
});

export const mixBucketsOptions = z.strictObject({
  category_rules: z.array(ruleSchema).default([]).describe('Checked in order; the first rule whose every condition holds sets the category.'),
  default_category: z.string().min(1).default('general').describe('Category when no rule matches and the document has none.'),
  overwrite_category: z.boolean().default(false).describe('Replace a `meta.category` the document already has (e.g. from a topic classifier).'),
  quality_bands: z
    .strictObject({
      field: z.string().min(1).describe('meta key of the score, e.g. quality.'),
      bands: z.array(z.strictObject({ band: z.string().min(1).describe('Band name.'), min: z.number().describe('Lowest score of the band.') })).min(1).describe('Bands by minimum score.'),
      below: z.string().min(1).default('low').describe("Band of a score below every band's min."),
    })
    .optional().describe('Quality band from a numeric score: the first band whose `min` the score reaches, else `below`.'),
});
export type MixBucketsOptions = z.output<typeof mixBucketsOptions>;

type Rule = z.output<typeof ruleSchema>;

function matches(rule: Rule, doc: Doc, url: RegExp | undefined): boolean {
  const m = doc.meta;
  if (rule.source && !rule.source.includes(String(m.source ?? ''))) return false;
  if (rule.language && !rule.language.includes(String(m.language ?? ''))) return false;
  if (rule.non_english !== undefined && isNonEnglish(typeof m.language === 'string' ? m.language : UNKNOWN) !== rule.non_english) return false;
  if (rule.code !== undefined && isCode(doc) !== rule.code) return false;
  if (url && !(typeof m.url === 'string' && url.test(m.url))) return false;
  return true;
}

/** Sets `meta.category` and `meta.quality_band` of one document. */
export function assignBucket(doc: Doc, options: MixBucketsOptions, urls: (RegExp | undefined)[] = options.category_rules.map((r) => (r.url ? new RegExp(r.url) : undefined))): void {
  const existing = doc.meta.category;
  if (options.overwrite_category || typeof existing !== 'string' || existing === '' || existing === UNKNOWN) {
    const i = options.category_rules.findIndex((r, k) => matches(r, doc, urls[k]));
    doc.meta.category = i >= 0 ? options.category_rules[i]!.category : options.default_category;
  }
  const q = options.quality_bands;
  if (q) {
    const score = doc.meta[q.field];
    const bands = [...q.bands].sort((a, b) => a.min - b.min);
    doc.meta.quality_band = typeof score === 'number' && Number.isFinite(score) ? bandOf(score, bands.map((x) => x.min), [q.below, ...bands.map((x) => x.band)]) : UNKNOWN;
  }
}

export const mixBucketsStage = defineStage<MixBucketsOptions>({
  name: 'mix-buckets',
  kind: 'annotator',
  description: 'Mix buckets: meta.category from rules (source, language, code, url) and meta.quality_band from a score',
  options: mixBucketsOptions,
  create(options): DocStage {
    const urls = options.category_rules.map((r) => (r.url ? new RegExp(r.url) : undefined));
    return {
      kind: 'annotator',
      name: 'mix-buckets',
      process: (docs) =>
        docs.map((doc) => {
          assignBucket(doc, options, urls);
          return KEEP;
        }),
    };
  },
});

/** This module's stages, for the registry. */
export const stages = [mixBucketsStage];
