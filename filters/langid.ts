/**
 * Language identification with fastText lid.176 (FineWeb §3.2; DT `filters/language_filter.py`).
 * Writes `meta.language` (ISO 639-1, else 639-3) and `meta.language_score`; drops a document whose
 * best score is under `language_threshold`, or whose language is outside `languages` when given.
 * Source code is not a human language: code documents keep their `meta.language` and pass.
 * Only a bounded prefix (`max_chars`) is classified: the fastText call is nearly all of the stage's
 * time and costs the same per character at any length (docs/filters.md has the agreement figures).
 */
import { z } from 'zod';
import { defineStage, drop, KEEP, type DocStage, type Verdict } from '../pipeline/stage.ts';
import type { Doc } from '../pipeline/doc.ts';
import { loadLidModel, predictWith } from './langid/lid-model.ts';
import { lidPrefix } from './langid/prefix.ts';
import { isCode } from '../text/code-detection.ts';
import { skipCode } from './skip-code.ts';
import { round4 } from './meta-number.ts';

export const langidOptions = z
  .object({
    languages: z.array(z.string().min(1)).optional().describe('Keep only these languages (ISO codes as written to meta.language); unset keeps all.'),
    language_threshold: z.number().min(0).max(1).default(0.65).describe('Minimum lid.176 score. 0.65: FineWeb and DCLM (DT LanguageFilter default).'),
    // Ours: the smallest bound tried whose label and keep/drop equal the whole text's on >= 99%
    // of every source file of the pipeline bench input (docs/filters.md, "Why a prefix"): a prefix
    // costs less CPU than the whole text, as bench/filters.bench.ts measures langid's speed.
    max_chars: z.number().int().nonnegative().default(10_000).describe('Classify only the first this many characters, cut at white space (0 = the whole text).'),
  })
  .strict();
export type LangidOptions = z.infer<typeof langidOptions>;

export function decideLanguage(doc: Doc, language: string, score: number, options: LangidOptions): Verdict {
  doc.meta.language = language;
  doc.meta.language_score = round4(score);
  if (options.languages !== undefined && !options.languages.includes(language)) {
    return drop('language_not_allowed', language);
  }
  if (score < options.language_threshold) return drop('language_score', score.toFixed(3));
  return KEEP;
}

export const langidStage = defineStage<LangidOptions>({
  name: 'langid',
  kind: 'filter',
  description: 'fastText lid.176 language ID: meta.language / meta.language_score; drop under a score (0.65) or outside a language set',
  options: langidOptions,
  async create(options): Promise<DocStage> {
    const model = await loadLidModel();
    return {
      kind: 'filter',
      name: 'langid',
      batchSize: 64,
      process: (docs) =>
        docs.map((doc) => {
          if (isCode(doc)) return skipCode(doc, 'langid');
          const [best] = predictWith(model, lidPrefix(doc.text, options.max_chars), 1);
          if (best === undefined) return drop('language_score', 'no prediction');
          return decideLanguage(doc, best.language, best.score, options);
        }),
    };
  },
});

/** This module's stages, for the registry. */
export const stages = [langidStage];
