/** Pipeline stages of this folder: filters (langid, gopher, c4, fineweb, nsfw, outliers, code). */
import type { AnyStageDefinition } from '../pipeline/stage.ts';
import { langidStage } from './langid.ts';
import { gopherQualityStage } from './gopher-quality.ts';
import { gopherRepetitionStage } from './gopher-repetition.ts';
import { c4Stage } from './c4.ts';
import { finewebStage } from './fineweb.ts';
import { dirtyWordsStage } from './dirty-words.ts';
import { urlBlocklistStage } from './url-blocklist.ts';
import { tokenOutlierStage } from './token-outlier.ts';
import { codeQualityStage } from './code-quality.ts';
import { selectStage } from './select.ts';

export const filterStages: AnyStageDefinition[] = [
  langidStage,
  gopherQualityStage,
  gopherRepetitionStage,
  c4Stage,
  finewebStage,
  dirtyWordsStage,
  urlBlocklistStage,
  tokenOutlierStage,
  codeQualityStage,
  selectStage,
];

/**
 * What `refinery filter` runs without --stages, in this order: language first (the later rules
 * read meta.language), cheap URL rule next, repetition before quality (FineWeb's order), C4 line
 * removal before the rules that look at lines, the NSFW word count, code rules, and the global
 * outlier filter last (its reference is built from what survived the rules). Keeps all languages.
 */
export const defaultFilterStages: string[] = [
  'langid',
  'url-blocklist',
  'gopher-repetition',
  'gopher-quality',
  'c4',
  'fineweb',
  'dirty-words',
  'code-quality',
  'token-outlier',
];
