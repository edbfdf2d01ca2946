/**
 * Dirty-word counting (Llama 3 §3.1.1; C4's bad-words rule) with the LDNOOBW lists from the
 * `naughty-words` package (CC-BY-4.0), picked by the document's `meta.language`. Matches are
 * whole-word and case-insensitive; in scripts written without spaces (Chinese, Japanese, Thai)
 * they are substring matches of list entries of two characters or more (one-character entries
 * such as 乳 "milk/breast" hit ordinary words).
 */
import { createRequire } from 'node:module';
import { z } from 'zod';
import { defineRuleStage, drop, KEEP, type Verdict } from '../pipeline/stage.ts';
import type { Doc } from '../pipeline/doc.ts';
import { wordCountOf } from '../text/doc-text.ts';
import { round4 } from './meta-number.ts';
import { WordListMatcher } from '../text/word-list-matcher.ts';

export const dirtyWordsOptions = z
  .object({
    max_dirty_word_ratio: z.number().min(0).max(1).default(0.01).describe('Drop when dirty-word matches per word exceed this. C4 drops on any match (0 here); we default to 0.01, measured in docs/filters.md ("Dirty words"), so that a clean book or article that says a listed word once or twice is kept.'),
    max_dirty_words: z.number().int().nonnegative().default(0).describe('Also drop when the count reaches this (0 = no count rule).'),
    default_language: z.string().default('en').describe('List used when meta.language is unset.'),
  })
  .strict();
export type DirtyWordsOptions = z.infer<typeof dirtyWordsOptions>;

const require = createRequire(import.meta.url);
const LISTS = require('naughty-words') as Record<string, string[]>;
const matchers = new Map<string, WordListMatcher | null>();

/** lid.176 codes whose LDNOOBW list has another name. */
const LIST_FOR_LANGUAGE: Readonly<Record<string, string>> = { tl: 'fil', nb: 'no', nn: 'no' };

/**
 * The list of `language` as a matcher that counts what the regex
 * `/(?<![\p{L}\p{N}])(?:longest|...|shortest)(?![\p{L}\p{N}])/giu` would (entries longest first,
 * then in code-unit order; no lookarounds in no-space scripts), without trying every entry at
 * every word start.
 */
function matcherFor(language: string): WordListMatcher | null {
  let m = matchers.get(language);
  if (m !== undefined) return m;
  const list = LISTS[LIST_FOR_LANGUAGE[language] ?? language];
  if (list === undefined || list.length === 0) m = null;
  else {
    const spaced = !['zh', 'ja', 'th', 'ko'].includes(language);
    const entries = list
      .map((w) => w.trim().toLowerCase())
      .filter((w) => w !== '' && (spaced || [...w].length >= 2))
      .sort((a, b) => b.length - a.length || (a < b ? -1 : 1));
    m = new WordListMatcher(entries, spaced);
  }
  matchers.set(language, m);
  return m;
}

export function dirtyWords(doc: Doc, o: DirtyWordsOptions): Verdict {
  const lang = typeof doc.meta.language === 'string' ? doc.meta.language : o.default_language;
  const matcher = matcherFor(lang);
  if (matcher === null) {
    doc.meta.dirty_words = { list: null, count: 0, ratio: 0 };
    return KEEP;
  }
  const count = matcher.count(doc.text);
  const words = wordCountOf(doc);
  const ratio = count / Math.max(words, 1);
  doc.meta.dirty_words = { list: lang, count, ratio: round4(ratio) };
  if (ratio > o.max_dirty_word_ratio) return drop('dirty_word_ratio', `${count}/${words}`);
  if (o.max_dirty_words > 0 && count >= o.max_dirty_words) return drop('dirty_word_count', String(count));
  return KEEP;
}

export const dirtyWordsStage = defineRuleStage<DirtyWordsOptions>({
  name: 'dirty-words',
  kind: 'filter',
  description: 'Count LDNOOBW dirty words for the doc language (naughty-words); drop above a ratio (default 0.01)',
  options: dirtyWordsOptions,
  rule: dirtyWords,
});

/** This module's stages, for the registry. */
export const stages = [dirtyWordsStage];
