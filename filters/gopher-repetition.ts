/**
 * Gopher repetition rules (Rae et al. 2021, App. A, Table A1; DT `filters/gopher_repetition_filter.py`).
 * Llama 3 calls this the "duplicated n-gram coverage ratio": it catches log-like repeated lines.
 * Fractions of characters are relative to the whole text.
 */
import { z } from 'zod';
import { defineRuleStage, drop, KEEP, type Verdict } from '../pipeline/stage.ts';
import { gopherRepetitionDatatrove, datatrovePresets, rulesOption } from './compat/datatrove.ts';
import type { Doc } from '../pipeline/doc.ts';
import { wordIndexOf } from '../text/doc-text.ts';
import { hasNonSpace, splitParagraphs } from '../text/lines.ts';
import { duplicates, WordNgrams } from '../text/repetition.ts';
import { isCode } from '../text/code-detection.ts';
import { skipCode } from './skip-code.ts';
import { round4 } from './meta-number.ts';

/** All defaults: Rae et al. 2021, Table A1 (the same values in DT and DCLM). */
export const gopherRepetitionOptions = z
  .object({
    dup_line_frac: z.number().min(0).max(1).default(0.3).describe('Drop when more than this fraction of lines duplicate an earlier line (Gopher: 0.3).'),
    dup_para_frac: z.number().min(0).max(1).default(0.3).describe('Drop when more than this fraction of paragraphs duplicate an earlier one (Gopher: 0.3).'),
    dup_line_char_frac: z.number().min(0).max(1).default(0.2).describe('Drop when more than this fraction of characters are in duplicated lines (Gopher: 0.2).'),
    dup_para_char_frac: z.number().min(0).max(1).default(0.2).describe('Drop when more than this fraction of characters are in duplicated paragraphs (Gopher: 0.2).'),
    top_n_grams: z.array(z.tuple([z.number().int().min(1), z.number().min(0).max(1)])).default([
      [2, 0.2],
      [3, 0.18],
      [4, 0.16],
    ]).describe('[n, max fraction of characters covered by the most frequent n-gram].'),
    dup_n_grams: z.array(z.tuple([z.number().int().min(1), z.number().min(0).max(1)])).default([
      [5, 0.15],
      [6, 0.14],
      [7, 0.13],
      [8, 0.12],
      [9, 0.11],
      [10, 0.1],
    ]).describe('[n, max fraction of characters in duplicated n-grams].'),
    rules: rulesOption,
  })
  .strict();
export type GopherRepetitionOptions = z.infer<typeof gopherRepetitionOptions>;

export function gopherRepetition(doc: Doc, o: GopherRepetitionOptions): Verdict {
  if (o.rules === 'datatrove') return gopherRepetitionDatatrove(doc, o);
  if (isCode(doc)) return skipCode(doc, 'gopher_repetition');
  const text = doc.text;
  const chars = Math.max(text.length, 1);
  const paragraphs = splitParagraphs(text);
  const lines = text.split(/\n+/).filter(hasNonSpace);
  const para = duplicates(paragraphs);
  const line = duplicates(lines);
  const grams = new WordNgrams(wordIndexOf(doc));
  const m: Record<string, number> = {
    dup_para_frac: round4(para.count / Math.max(paragraphs.length, 1)),
    dup_para_char_frac: round4(para.chars / chars),
    dup_line_frac: round4(line.count / Math.max(lines.length, 1)),
    dup_line_char_frac: round4(line.chars / chars),
  };
  for (const [n] of o.top_n_grams) m[`top_${n}_gram_char_frac`] = round4(grams.topNgramChars(n) / chars);
  for (const [n] of o.dup_n_grams) m[`dup_${n}_gram_char_frac`] = round4(grams.duplicateNgramChars(n) / chars);
  doc.meta.gopher_repetition = m;

  if (m.dup_para_frac! > o.dup_para_frac) return drop('dup_para_frac');
  if (m.dup_para_char_frac! > o.dup_para_char_frac) return drop('dup_para_char_frac');
  if (m.dup_line_frac! > o.dup_line_frac) return drop('dup_line_frac');
  if (m.dup_line_char_frac! > o.dup_line_char_frac) return drop('dup_line_char_frac');
  for (const [n, max] of o.top_n_grams) if (m[`top_${n}_gram_char_frac`]! > max) return drop(`top_${n}_gram`);
  for (const [n, max] of o.dup_n_grams) if (m[`dup_${n}_gram_char_frac`]! > max) return drop(`duplicated_${n}_n_grams`);
  return KEEP;
}

export const gopherRepetitionStage = defineRuleStage<GopherRepetitionOptions>({
  name: 'gopher-repetition',
  kind: 'filter',
  description: 'Gopher repetition rules (Llama 3 duplicated n-gram coverage): repeated lines, paragraphs and n-grams',
  options: gopherRepetitionOptions,
  presets: datatrovePresets,
  rule: gopherRepetition,
});

/** This module's stages, for the registry. */
export const stages = [gopherRepetitionStage];
