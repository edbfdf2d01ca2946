/**
 * FineWeb's own rules (Penedo et al. 2024, §3.5; DT `filters/fineweb_quality_filter.py`), over the
 * non-empty lines of a document.
 */
import { z } from 'zod';
import { defineRuleStage, drop, KEEP, type Verdict } from '../pipeline/stage.ts';
import { finewebDatatrove, datatrovePresets, rulesOption } from './compat/datatrove.ts';
import type { Doc } from '../pipeline/doc.ts';
import { linesOf, wordCountOf } from '../text/doc-text.ts';
import { duplicates } from '../text/repetition.ts';
import { endsWithTerminalPunctuation } from '../text/punctuation.ts';
import { hasNonSpace } from '../text/lines.ts';
import { isCode } from '../text/code-detection.ts';
import { skipCode } from './skip-code.ts';
import { round4 } from './meta-number.ts';

export const finewebOptions = z
  .object({
    line_punct_thr: z.number().min(0).max(1).default(0.12).describe('Drop when the fraction of lines ending in terminal punctuation is ≤ this. 0.12: FineWeb §3.5.'),
    short_line_thr: z.number().min(0).max(1).default(0.67).describe('Drop when the fraction of lines of ≤ short_line_length characters is ≥ this. 0.67: FineWeb §3.5.'),
    short_line_length: z.number().int().positive().default(30).describe('A line of at most this many characters is short (FineWeb: 30).'),
    char_duplicates_ratio: z.number().min(0).max(1).default(0.1).describe("Drop when characters in duplicated lines are ≥ this fraction. 0.1: FineWeb §3.5 (DT's code ships 0.01; docs/filters.md has the measurement behind our choice)."),
    new_line_ratio: z.number().nonnegative().default(0.3).describe('Drop list-like documents: newlines per word above this. 0.3: DT FineWebQualityFilter.'),
    rules: rulesOption,
  })
  .strict();
export type FinewebOptions = z.infer<typeof finewebOptions>;

export function fineweb(doc: Doc, o: FinewebOptions): Verdict {
  if (o.rules === 'datatrove') return finewebDatatrove(doc, o);
  if (isCode(doc)) return skipCode(doc, 'fineweb');
  const text = doc.text;
  const lines = linesOf(doc).filter(hasNonSpace);
  if (lines.length === 0) {
    doc.meta.fineweb = { lines: 0 };
    return drop('empty');
  }
  let punctLines = 0;
  let shortLines = 0;
  for (const l of lines) {
    if (endsWithTerminalPunctuation(l)) punctLines++;
    if (l.length <= o.short_line_length) shortLines++;
  }
  const punct = punctLines / lines.length;
  const short = shortLines / lines.length;
  // Line breaks counted in place of text.match(/\n/g) and text.replace(/\r?\n/g, '') (a copy of the text).
  let newlines = 0;
  let crlf = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) {
    newlines++;
    if (i > 0 && text.charCodeAt(i - 1) === 0x0d) crlf++;
  }
  const dupChars = duplicates(lines).chars / Math.max(text.length - newlines - crlf, 1);
  const words = wordCountOf(doc);
  const listRatio = newlines / Math.max(words, 1);
  doc.meta.fineweb = {
    lines: lines.length,
    line_punct_ratio: round4(punct),
    short_line_ratio: round4(short),
    char_dup_ratio: round4(dupChars),
    new_line_ratio: round4(listRatio),
  };
  if (punct <= o.line_punct_thr) return drop('line_punct_ratio');
  if (short >= o.short_line_thr) return drop('short_line_ratio');
  if (dupChars >= o.char_duplicates_ratio) return drop('char_dup_ratio');
  if (listRatio > o.new_line_ratio) return drop('list_ratio');
  return KEEP;
}

export const finewebStage = defineRuleStage<FinewebOptions>({
  name: 'fineweb',
  kind: 'filter',
  description: 'FineWeb rules: lines ending in punctuation, short lines, duplicated-line characters, list-like docs',
  options: finewebOptions,
  presets: datatrovePresets,
  rule: fineweb,
});

/** This module's stages, for the registry. */
export const stages = [finewebStage];
