/**
 * C4 rules (Raffel et al. 2020, §2.2; DT `filters/c4_filters.py`). A mapper: line rules remove
 * lines (counted per rule in `meta.c4.lines_removed`), document rules drop the document, and the
 * kept lines become the new text. Words of Chinese, Japanese or Thai lines are counted with
 * Intl.Segmenter (a whitespace split would find one "word" per line and remove every line).
 * The terminal-punctuation line rule is off by default: FineWeb (Penedo et al. 2024, §3.5) found
 * it alone removes about 30% of tokens.
 */
import { z } from 'zod';
import { defineRuleStage, drop, KEEP, type Verdict } from '../pipeline/stage.ts';
import { c4Datatrove, datatrovePresets, rulesOption } from './compat/datatrove.ts';
import type { Doc } from '../pipeline/doc.ts';
import { linesOf, needsSegmenterOf, splitWordsIn } from '../text/doc-text.ts';
import { isSpace } from '../text/lines.ts';
import { needsSegmenter } from '../text/words.ts';
import { endsWithTerminalPunctuation } from '../text/punctuation.ts';
import { isCode } from '../text/code-detection.ts';
import { skipCode } from './skip-code.ts';

/** Defaults: C4 (Raffel et al. 2020) as DT C4QualityFilter, with FineWeb's filter_no_terminal_punct = false. */
export const c4Options = z
  .object({
    filter_no_terminal_punct: z.boolean().default(false).describe('Remove lines that do not end in terminal punctuation (C4: on; off here, as FineWeb §3.5).'),
    min_words_per_line: z.number().int().nonnegative().default(3).describe('Remove lines with fewer words (C4: 3).'),
    max_word_length: z.number().int().positive().default(1000).describe('Remove lines with a word longer than this many characters (C4: 1,000).'),
    min_num_sentences: z.number().int().nonnegative().default(5).describe('Drop documents with fewer sentences in the kept lines (C4: 5).'),
    remove_citations: z.boolean().default(true).describe('Remove Wikipedia-style citation marks such as [1], [edit], [citation needed].'),
    filter_javascript: z.boolean().default(true).describe('Remove lines that mention javascript.'),
    filter_policy: z.boolean().default(true).describe('Remove lines that contain one of policy_substrings.'),
    filter_lorem_ipsum: z.boolean().default(true).describe('Drop documents that contain "lorem ipsum".'),
    filter_curly_bracket: z.boolean().default(true).describe('Drop documents with a curly bracket (code).'),
    policy_substrings: z
      .array(z.string())
      .default(['terms of use', 'privacy policy', 'cookie policy', 'uses cookies', 'use of cookies', 'use cookies'])
      .describe('Lower-case phrases of boilerplate lines that filter_policy removes.'),
    rules: rulesOption,
  })
  .strict();
export type C4Options = z.infer<typeof c4Options>;

const CITATION = /\[\d*\]|\[edit\]|\[citation needed\]/gi;

type LineRule = 'too_long_word' | 'no_terminal_punct' | 'too_few_words' | 'javascript' | 'policy';

export function c4(doc: Doc, o: C4Options): Verdict {
  if (o.rules === 'datatrove') return c4Datatrove(doc, o);
  if (isCode(doc)) return skipCode(doc, 'c4');
  const removed: Record<LineRule, number> = {
    too_long_word: 0,
    no_terminal_punct: 0,
    too_few_words: 0,
    javascript: 0,
    policy: 0,
  };
  const kept: string[] = [];
  const out: string[] = [];
  let altered = false;
  let sentences = 0;
  let linesIn = 0;
  const record = () => {
    doc.meta.c4 = { lines_in: linesIn, lines_kept: kept.length, lines_removed: removed, sentences };
  };
  // A line holds a no-space script only if the document does.
  const noSpaceScript = needsSegmenterOf(doc);
  for (const raw of linesOf(doc)) {
    let line = raw.trim();
    if (line === '') {
      out.push('');
      continue;
    }
    linesIn++;
    const spaced = spacedWords(line);
    const wordCount = noSpaceScript && needsSegmenter(line) ? splitWordsIn(doc, line).length : spaced.count;
    if (spaced.longest > o.max_word_length) {
      removed.too_long_word++;
      continue;
    }
    if (o.remove_citations && line.includes('[')) line = line.replace(CITATION, '');
    if (o.filter_no_terminal_punct && (!endsWithTerminalPunctuation(line) || line.endsWith('...'))) {
      removed.no_terminal_punct++;
      continue;
    }
    if (wordCount < o.min_words_per_line) {
      removed.too_few_words++;
      continue;
    }
    const lower = line.toLowerCase();
    if (o.filter_lorem_ipsum && lower.includes('lorem ipsum')) {
      record();
      return drop('lorem_ipsum');
    }
    if (o.filter_javascript && lower.includes('javascript')) {
      removed.javascript++;
      continue;
    }
    if (o.filter_curly_bracket && line.includes('{')) {
      record();
      return drop('curly_bracket');
    }
    if (o.filter_policy && o.policy_substrings.some((p) => lower.includes(p))) {
      removed.policy++;
      continue;
    }
    sentences += countSentences(line);
    kept.push(line);
    out.push(line);
    if (line !== raw) altered = true;
  }
  record();
  if (sentences < o.min_num_sentences) return drop('too_few_sentences', `${sentences} sentences`);
  const removedAny = kept.length < linesIn;
  if (removedAny || altered) doc.text = out.join('\n').replace(/\n{3,}/g, '\n\n').trim();
  return KEEP;
}

/**
 * `line.split(/\s+/)` of a trimmed line, counted: how many words, and the length of the longest.
 * A loop over char codes, without the array of words.
 */
function spacedWords(line: string): { count: number; longest: number } {
  let count = 0;
  let longest = 0;
  let run = 0;
  for (let i = 0; i < line.length; i++) {
    if (isSpace(line.charCodeAt(i))) {
      if (run > 0) count++;
      if (run > longest) longest = run;
      run = 0;
    } else run++;
  }
  if (run > 0) count++;
  if (run > longest) longest = run;
  return { count, longest };
}

/** `"'”’)]`, which may follow a Latin sentence end. */
function isCloser(c: number): boolean {
  return c === 0x22 || c === 0x27 || c === 0x201d || c === 0x2019 || c === 0x29 || c === 0x5d;
}

/** 。！？ */
function isFullWidthEnd(c: number): boolean {
  return c === 0x3002 || c === 0xff01 || c === 0xff1f;
}

/** 」』”’）, which may follow a full-width sentence end. */
function isFullWidthCloser(c: number): boolean {
  return c === 0x300d || c === 0x300f || c === 0x201d || c === 0x2019 || c === 0xff09;
}

/**
 * Sentence ends in the line, plus one for trailing text after the last one. A sentence ends at
 * Latin terminal punctuation (and closing quotes) followed by white space or the end of the line,
 * or at a full-width ending (。！？) wherever it is: CJK puts no space after it. That is the
 * matches of /[.!?]+["'”’)\]]*(?=\s|$)|[。！？]+[」』”’）]*\/g, found by a loop over char codes
 * (no match objects): a run of `.!?` and closers ends a sentence only when white space or the end
 * of the line follows it (giving characters back cannot help: a `.!?` or a closer would follow).
 */
export function countSentences(line: string): number {
  const n = line.length;
  let count = 0;
  let last = 0;
  let i = 0;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 0x2e || c === 0x21 || c === 0x3f) {
      let j = i + 1;
      while (j < n && isLatinEnd(line.charCodeAt(j))) j++;
      while (j < n && isCloser(line.charCodeAt(j))) j++;
      if (j === n || isSpace(line.charCodeAt(j))) {
        count++;
        last = j;
      }
      i = j;
    } else if (c >= 0x3002 && isFullWidthEnd(c)) {
      let j = i + 1;
      while (j < n && isFullWidthEnd(line.charCodeAt(j))) j++;
      while (j < n && isFullWidthCloser(line.charCodeAt(j))) j++;
      count++;
      last = j;
      i = j;
    } else i++;
  }
  for (let k = last; k < n; k++) if (!isSpace(line.charCodeAt(k))) return count + 1;
  return count;
}

function isLatinEnd(c: number): boolean {
  return c === 0x2e || c === 0x21 || c === 0x3f;
}

export const c4Stage = defineRuleStage<C4Options>({
  name: 'c4',
  kind: 'mapper',
  description: 'C4 rules: remove short, javascript and policy lines; drop lorem ipsum, curly-bracket and <5-sentence docs',
  options: c4Options,
  presets: datatrovePresets,
  rule: c4,
});

/** This module's stages, for the registry. */
export const stages = [c4Stage];
