/**
 * Gopher quality rules (Rae et al. 2021, "Scaling Language Models", App. A; as DT
 * `filters/gopher_quality_filter.py` implements them). Words are counted without punctuation
 * tokens ("non-symbol words"); the ratios per word use that count.
 * Gopher was English-only. Here the stop-word rule applies to `stop_words_languages` (and to docs
 * with no `meta.language`), and the mean-word-length rule is not applied to languages written
 * without spaces (Chinese, Japanese, Thai...), where a "word" is one or two characters.
 */
import { z } from 'zod';
import { defineRuleStage, drop, KEEP, type Verdict } from '../pipeline/stage.ts';
import { gopherQualityDatatrove, datatrovePresets, rulesOption } from './compat/datatrove.ts';
import type { Doc } from '../pipeline/doc.ts';
import { hasLetter } from '../text/words.ts';
import { linesOf, needsSegmenterOf, wordIndexOf } from '../text/doc-text.ts';
import { isSpace } from '../text/lines.ts';
import { isCode } from '../text/code-detection.ts';
import { skipCode } from './skip-code.ts';
import { round4 } from './meta-number.ts';

/** All defaults: Rae et al. 2021 App. A / DT GopherQualityFilter. */
export const gopherQualityOptions = z
  .object({
    min_doc_words: z.number().int().nonnegative().default(50).describe('Drop documents with fewer words (Gopher: 50).'),
    max_doc_words: z.number().int().positive().default(100_000).describe('Drop documents with more words (Gopher: 100,000).'),
    min_avg_word_length: z.number().nonnegative().default(3).describe('Drop when the mean word length in characters is below this (Gopher: 3).'),
    max_avg_word_length: z.number().positive().default(10).describe('Drop when the mean word length in characters is above this (Gopher: 10).'),
    max_symbol_word_ratio: z.number().nonnegative().default(0.1).describe('`#` per word, and `...`/`…` per word.'),
    max_bullet_lines_ratio: z.number().min(0).max(1).default(0.9).describe('Drop when more than this fraction of lines start with a bullet (Gopher: 0.9).'),
    max_ellipsis_lines_ratio: z.number().min(0).max(1).default(0.3).describe('Drop when more than this fraction of lines end with an ellipsis (Gopher: 0.3).'),
    min_alpha_words_ratio: z.number().min(0).max(1).default(0.8).describe('Fraction of words (punctuation is not a word) that contain a letter.'),
    min_stop_words: z.number().int().nonnegative().default(2).describe('Drop when fewer than this many stop_words occur (Gopher: 2).'),
    stop_words: z.array(z.string()).default(['the', 'be', 'to', 'of', 'and', 'that', 'have', 'with']).describe("The stop words min_stop_words counts (Gopher's list)."),
    stop_words_languages: z.array(z.string()).default(['en']).describe('The stop-word rule is English: it applies to these meta.language values (and to docs without one).'),
    rules: rulesOption,
  })
  .strict();
export type GopherQualityOptions = z.infer<typeof gopherQualityOptions>;

/** Languages written without spaces between words (by meta.language; else by script). */
const NO_SPACE_LANGUAGES = new Set(['zh', 'ja', 'th', 'lo', 'km', 'my', 'bo', 'yue', 'wuu']);

export function gopherQuality(doc: Doc, o: GopherQualityOptions): Verdict {
  if (o.rules === 'datatrove') return gopherQualityDatatrove(doc, o);
  if (isCode(doc)) return skipCode(doc, 'gopher_quality');
  const text = doc.text;
  const { ids, vocab, chars: letters } = wordIndexOf(doc);
  const nWords = ids.length;
  // Each distinct word is tested once (bit 1: has a letter, bit 2: a stop word), then counted.
  const stop = stopWordSet(o.stop_words);
  const kinds = new Uint8Array(vocab.length + 1);
  for (let id = 1; id <= vocab.length; id++) {
    const w = vocab[id - 1]!;
    kinds[id] = (hasLetter(w) ? 1 : 0) | (stop.has(w.toLowerCase()) ? 2 : 0);
  }
  let alphaWords = 0;
  let stopWords = 0;
  for (let i = 0; i < nWords; i++) {
    const k = kinds[ids[i]!]!;
    alphaWords += k & 1;
    stopWords += k >> 1;
  }
  const { hashes, ellipses } = countHashesAndEllipses(text);
  const lines = linesOf(doc);
  let bulletLines = 0;
  let ellipsisLines = 0;
  for (const l of lines) {
    if (startsWithBullet(l)) bulletLines++;
    if (endsWithEllipsis(l)) ellipsisLines++;
  }

  const m = {
    words: nWords,
    mean_word_length: nWords ? round4(letters / nWords) : 0,
    hash_word_ratio: round4(hashes / Math.max(nWords, 1)),
    ellipsis_word_ratio: round4(ellipses / Math.max(nWords, 1)),
    bullet_lines_ratio: round4(bulletLines / lines.length),
    ellipsis_lines_ratio: round4(ellipsisLines / lines.length),
    alpha_words_ratio: nWords ? round4(alphaWords / nWords) : 0,
    stop_words: stopWords,
  };
  doc.meta.gopher_quality = m;

  if (nWords < o.min_doc_words) return drop('short_doc', `${nWords} words`);
  if (nWords > o.max_doc_words) return drop('long_doc', `${nWords} words`);
  const language = doc.meta.language;
  const spacedText = typeof language === 'string' ? !NO_SPACE_LANGUAGES.has(language) : !needsSegmenterOf(doc);
  if (spacedText) {
    if (m.mean_word_length < o.min_avg_word_length) return drop('below_avg_word_length');
    if (m.mean_word_length > o.max_avg_word_length) return drop('above_avg_word_length');
  }
  if (hashes / nWords > o.max_symbol_word_ratio) return drop('too_many_hashes');
  if (ellipses / nWords > o.max_symbol_word_ratio) return drop('too_many_ellipsis');
  if (bulletLines / lines.length > o.max_bullet_lines_ratio) return drop('too_many_bullet_lines');
  if (ellipsisLines / lines.length > o.max_ellipsis_lines_ratio) return drop('too_many_end_ellipsis_lines');
  if (alphaWords / nWords < o.min_alpha_words_ratio) return drop('below_alpha_words_ratio');
  const stopWordsApply = typeof language !== 'string' || o.stop_words_languages.includes(language);
  if (stopWordsApply && stopWords < o.min_stop_words) return drop('not_enough_stop_words');
  return KEEP;
}

const stopWordSets = new WeakMap<readonly string[], ReadonlySet<string>>();

function stopWordSet(words: readonly string[]): ReadonlySet<string> {
  let set = stopWordSets.get(words);
  if (set === undefined) stopWordSets.set(words, (set = new Set(words)));
  return set;
}

/*
 * The character tests below are loops over char codes, not regexes: the same answers as
 * /#/g, /\.\.\.|…/g, /^\s*[•●○■□▪▫◦‣⁃\-*]/ and /(?:\.\.\.|…)\s*$/, without a match array or a
 * scan from every position of every line.
 */

/** `#` signs, and non-overlapping `...` or `…` left to right (`....` is one), in one pass. */
function countHashesAndEllipses(text: string): { hashes: number; ellipses: number } {
  let hashes = 0;
  let ellipses = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x23) hashes++;
    else if (c === 0x2026) ellipses++;
    else if (c === 0x2e && text.charCodeAt(i + 1) === 0x2e && text.charCodeAt(i + 2) === 0x2e) {
      ellipses++;
      i += 2;
    }
  }
  return { hashes, ellipses };
}

const BULLETS = new Set(Array.from('•●○■□▪▫◦‣⁃-*', (c) => c.charCodeAt(0)));

function startsWithBullet(line: string): boolean {
  let i = 0;
  while (i < line.length && isSpace(line.charCodeAt(i))) i++;
  return i < line.length && BULLETS.has(line.charCodeAt(i));
}

function endsWithEllipsis(line: string): boolean {
  let end = line.length;
  while (end > 0 && isSpace(line.charCodeAt(end - 1))) end--;
  const c = line.charCodeAt(end - 1);
  if (c === 0x2026) return true;
  return end >= 3 && c === 0x2e && line.charCodeAt(end - 2) === 0x2e && line.charCodeAt(end - 3) === 0x2e;
}

export const gopherQualityStage = defineRuleStage<GopherQualityOptions>({
  name: 'gopher-quality',
  kind: 'filter',
  description: 'Gopher quality rules: word count, mean word length, symbols, bullets, ellipses, alphabetic words, stop words',
  options: gopherQualityOptions,
  presets: datatrovePresets,
  rule: gopherQuality,
});

/** This module's stages, for the registry. */
export const stages = [gopherQualityStage];
