/** Pipeline stages of this folder: filters (langid, gopher, c4, fineweb, nsfw, outliers, code). */
import { stageModules } from '../pipeline/registry.ts';

/** Stage name → module, loaded only when a pipeline uses the stage. */
export const filterStageModules = stageModules(import.meta.url, {
  langid: './langid',
  'gopher-quality': './gopher-quality',
  'gopher-repetition': './gopher-repetition',
  c4: './c4',
  fineweb: './fineweb',
  'dirty-words': './dirty-words',
  'url-blocklist': './url-blocklist',
  'token-outlier': './token-outlier',
  'code-quality': './code-quality',
  select: './select',
  pii: './pii',
  'pii-sites': './pii-sites',
});

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
