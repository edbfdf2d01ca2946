/**
 * `rules: datatrove` (set on all four by the run-level `compat: datatrove`): Gopher quality, Gopher repetition, C4 and FineWeb deciding as datatrove
 * 0.10.0 (commit a649de79) does with its defaults: spaCy English words and sentences
 * (./spacy-english.ts), Python's line splitting and stripping, lengths in code points, and
 * datatrove's counting (distinct stop words, case-sensitive; the top n-gram counted even when it
 * occurs once; duplicated n-grams as words joined without spaces). Where our defaults differ from
 * datatrove's (FineWeb's char_duplicates_ratio, C4's filter_no_terminal_punct), datatrove's value
 * is used; every other option applies as given. Code is not skipped (datatrove does not detect it).
 * A text that makes datatrove divide by zero (an empty text) throws, as datatrove raises.
 */
import type { Doc } from '../../pipeline/doc.ts';
import { drop, KEEP, type Verdict } from '../../pipeline/stage.ts';
import { z } from 'zod';
import type { StagePresets } from '../../pipeline/stage.ts';
import { pySplit, pyStrip, spacySentenceCount, spacyWords } from './spacy-english.ts';
import { duplicates } from '../../text/repetition.ts';

/** The `rules` option of the four filters: unset, Refinery's rules; `datatrove`, datatrove's. */
export const rulesOption = z.enum(['datatrove']).optional().describe("Decide as another implementation does: `datatrove` (0.10.0 with its defaults; docs/filters.md). Unset: Refinery's rules. `compat: datatrove` on the run sets it on every filter that has it.");

/** The run-level modes of the four filters: `compat: datatrove` sets `rules: datatrove`. */
export const datatrovePresets: StagePresets = { datatrove: { rules: 'datatrove' } };

// The options each rule below reads (the filters' own schemas hold their defaults and descriptions).
interface GopherQualityOptions {
  min_doc_words: number;
  max_doc_words: number;
  min_avg_word_length: number;
  max_avg_word_length: number;
  max_symbol_word_ratio: number;
  max_bullet_lines_ratio: number;
  max_ellipsis_lines_ratio: number;
  min_alpha_words_ratio: number;
  min_stop_words: number;
  stop_words: readonly string[];
}
interface GopherRepetitionOptions {
  dup_line_frac: number;
  dup_para_frac: number;
  dup_line_char_frac: number;
  dup_para_char_frac: number;
  top_n_grams: readonly (readonly [number, number])[];
  dup_n_grams: readonly (readonly [number, number])[];
}
interface C4Options {
  filter_no_terminal_punct: boolean;
  min_words_per_line: number;
  max_word_length: number;
  min_num_sentences: number;
  remove_citations: boolean;
  filter_javascript: boolean;
  filter_policy: boolean;
  filter_lorem_ipsum: boolean;
  filter_curly_bracket: boolean;
  policy_substrings: readonly string[];
}
interface FinewebOptions {
  line_punct_thr: number;
  short_line_thr: number;
  short_line_length: number;
  new_line_ratio: number;
}

/** Python's len(): code points. */
export function cpLen(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) {
      const p = s.charCodeAt(i - 1);
      if (p >= 0xd800 && p <= 0xdbff) n--;
    }
  }
  return n;
}

/** Python's str.splitlines(). */
export function pySplitlines(text: string): string[] {
  if (text === '') return [];
  const parts = text.split(/\r\n|[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]/);
  if (parts[parts.length - 1] === '') parts.pop();
  return parts;
}

function divide(a: number, b: number, what: string): number {
  if (b === 0) throw new Error(`datatrove compat: division by zero (${what}), as datatrove raises ZeroDivisionError`);
  return a / b;
}

/** datatrove's `find_duplicates`: elements equal to an earlier one, and their characters (code points). */
const findDuplicates = (xs: readonly string[]) => duplicates(xs, cpLen);

function countOf(text: string, needle: string): number {
  let n = 0;
  for (let i = text.indexOf(needle); i !== -1; i = text.indexOf(needle, i + needle.length)) n++;
  return n;
}

// datatrove's PUNCTUATION string plus its TERMINAL_PUNCTUATION set (utils/text.py), as code points.
const DT_PUNCTUATION = Array.from('!/—”:％１〈&(、━\\【#%「」，】；+^]~“《„\';’{|∶´[=-`*．（–？！：$～«〉,><》)?）。…@_."}►»');
for (const [a, b] of [[0, 9], [11, 13], [13, 32], [127, 160]] as const) for (let c = a; c < b; c++) DT_PUNCTUATION.push(String.fromCodePoint(c));
const DT_TERMINAL = new Set(
  '21 2E 3F 589 61D 61E 61F 6D4 700 701 702 7F9 837 839 83D 83E 964 965 104A 104B 1362 1367 1368 166E 1735 1736 17D4 17D5 17D6 17D9 17DA 1803 1809 1944 1945 1AA8 1AA9 1AAA 1AAB 1B5A 1B5B 1B5E 1B5F 1B7D 1B7E 1C3B 1C3C 1C7E 1C7F 203C 203D 2047 2048 2049 2E2E 2E3C 2E53 2E54 3002 A4FF A60E A60F A6F3 A6F7 A876 A877 A8CE A8CF A92F A9C8 A9C9 AA5D AA5E AA5F AAF0 AAF1 ABEB FE52 FE56 FE57 FF01 FF0E FF1F FF61 10A56 10A57 10F55 10F56 10F57 10F58 10F59 10F86 10F87 10F88 10F89 11047 11048 110BE 110BF 110C0 110C1 11141 11142 11143 111C5 111C6 111CD 111DE 111DF 11238 11239 1123B 1123C 112A9 1144B 1144C 115C2 115C3 115C9 115CA 115CB 115CC 115CD 115CE 115CF 115D0 115D1 115D2 115D3 115D4 115D5 115D6 115D7 11641 11642 1173C 1173D 1173E 11944 11946 11A42 11A43 11A9B 11A9C 11C41 11C42 11EF7 11EF8 11F43 11F44 16A6E 16A6F 16AF5 16B37 16B38 16B44 16E98 1BC9F 1DA88'
    .split(' ')
    .map((h) => String.fromCodePoint(parseInt(h, 16))),
);
const DT_PUNCTUATION_SET = new Set([...DT_PUNCTUATION, ...DT_TERMINAL]);
const LETTER = /\p{L}/u;

function lastCodePoint(s: string): string {
  const cps = Array.from(s.slice(-2));
  return cps[cps.length - 1] ?? '';
}

export function gopherQualityDatatrove(doc: Doc, o: GopherQualityOptions): Verdict {
  const text = doc.text;
  const words = spacyWords(text);
  const n = words.length;
  const nonSymbol = words.filter((w) => Array.from(w).some((c) => !DT_PUNCTUATION_SET.has(c)));
  let letters = 0;
  for (const w of nonSymbol) letters += cpLen(w);
  const mean = nonSymbol.length ? letters / nonSymbol.length : NaN;
  const stop = new Set(o.stop_words);
  const stopWords = new Set(words.filter((w) => stop.has(w))).size;
  doc.meta.gopher_quality = { compat: 'datatrove', words: nonSymbol.length, tokens: n, distinct_stop_words: stopWords };
  if (o.min_doc_words && nonSymbol.length < o.min_doc_words) return drop('short_doc', `${nonSymbol.length} words`);
  if (o.max_doc_words && nonSymbol.length > o.max_doc_words) return drop('long_doc', `${nonSymbol.length} words`);
  if (o.min_avg_word_length && mean < o.min_avg_word_length) return drop('below_avg_word_length');
  if (o.max_avg_word_length && mean > o.max_avg_word_length) return drop('above_avg_word_length');
  if (o.max_symbol_word_ratio && divide(countOf(text, '#'), n, 'words') > o.max_symbol_word_ratio) return drop('too_many_hashes');
  if (o.max_symbol_word_ratio && divide(countOf(text, '...') + countOf(text, '…'), n, 'words') > o.max_symbol_word_ratio) return drop('too_many_ellipsis');
  const lines = pySplitlines(text);
  if (o.max_bullet_lines_ratio) {
    const bullets = lines.filter((l) => {
      const s = l.replace(/^[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/u, '');
      return s.startsWith('•') || s.startsWith('-');
    }).length;
    if (divide(bullets, lines.length, 'lines') > o.max_bullet_lines_ratio) return drop('too_many_bullet_lines');
  }
  if (o.max_ellipsis_lines_ratio) {
    const ends = lines.filter((l) => {
      const s = l.replace(/[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/u, '');
      return s.endsWith('...') || s.endsWith('…');
    }).length;
    if (divide(ends, lines.length, 'lines') > o.max_ellipsis_lines_ratio) return drop('too_many_end_ellipsis_lines');
  }
  if (o.min_alpha_words_ratio && divide(words.filter((w) => LETTER.test(w)).length, n, 'words') < o.min_alpha_words_ratio) return drop('below_alpha_words_ratio');
  if (o.min_stop_words && stopWords < o.min_stop_words) return drop('not_enough_stop_words');
  return KEEP;
}

/** The characters of the most frequent n-gram (words joined by spaces) times its count; ties: the first seen. */
function topNgramChars(words: readonly string[], n: number): number | null {
  if (words.length < n) return null;
  const counts = new Map<string, number>();
  let best = '';
  let bestCount = 0;
  for (let i = 0; i + n <= words.length; i++) {
    const g = words.slice(i, i + n).join(' ');
    const c = (counts.get(g) ?? 0) + 1;
    counts.set(g, c);
    if (c > bestCount) {
      bestCount = c;
      best = g;
    }
  }
  return cpLen(best) * bestCount;
}

/** Characters in repeated n-grams (words joined without spaces), skipping past each repeat. */
function allDuplicateChars(words: readonly string[], n: number): number {
  const seen = new Set<string>();
  let chars = 0;
  let i = 0;
  while (i < words.length - n + 1) {
    const g = words.slice(i, i + n).join('');
    if (seen.has(g)) {
      chars += cpLen(g);
      i += n;
    } else {
      seen.add(g);
      i++;
    }
  }
  return chars;
}

export function gopherRepetitionDatatrove(doc: Doc, o: GopherRepetitionOptions): Verdict {
  const text = doc.text;
  const len = cpLen(text);
  doc.meta.gopher_repetition = { compat: 'datatrove' };
  const paragraphs = pyStrip(text).split(/\n{2,}/);
  const para = findDuplicates(paragraphs);
  if (o.dup_para_frac && para.count / paragraphs.length > o.dup_para_frac) return drop('dup_para_frac');
  if (o.dup_para_char_frac && divide(para.chars, len, 'empty text') > o.dup_para_char_frac) return drop('dup_para_char_frac');
  const lines = text.split(/\n+/);
  const line = findDuplicates(lines);
  if (o.dup_line_frac && line.count / lines.length > o.dup_line_frac) return drop('dup_line_frac');
  if (o.dup_line_char_frac && divide(line.chars, len, 'empty text') > o.dup_line_char_frac) return drop('dup_line_char_frac');
  const words = spacyWords(text);
  for (const [n, frac] of o.top_n_grams) {
    const chars = topNgramChars(words, n);
    if (chars !== null && divide(chars, len, 'empty text') > frac) return drop(`top_${n}_gram`);
  }
  for (const [n, frac] of o.dup_n_grams) if (divide(allDuplicateChars(words, n), len, 'empty text') > frac) return drop(`duplicated_${n}_n_grams`);
  return KEEP;
}

const DT_CITATION = /\[\p{Nd}*\]|\[edit\]|\[citation needed\]/gu;
const DT_END_PUNCTUATION = ['.', '?', '!', '"', "'"];

export function c4Datatrove(doc: Doc, o: C4Options): Verdict {
  let sentences = 0;
  const kept: string[] = [];
  for (const raw of pySplitlines(doc.text)) {
    let line = pyStrip(raw);
    const words = pySplit(line);
    if (o.max_word_length !== -1 && words.some((w) => cpLen(w) > o.max_word_length)) continue;
    if (o.remove_citations) line = line.replace(DT_CITATION, '');
    // datatrove's default: lines must end in terminal punctuation (ours leaves that rule off).
    if (!DT_END_PUNCTUATION.some((p) => line.endsWith(p)) || line.endsWith('...')) continue;
    if (words.length < o.min_words_per_line) continue;
    const lower = line.toLowerCase();
    if (o.filter_lorem_ipsum && lower.includes('lorem ipsum')) return drop('lorem_ipsum');
    if (o.filter_javascript && lower.includes('javascript')) continue;
    if (o.filter_curly_bracket && line.includes('{')) return drop('curly_bracket');
    if (o.filter_policy && o.policy_substrings.some((p) => lower.includes(p))) continue;
    if (o.min_num_sentences !== -1) sentences += spacySentenceCount(line);
    kept.push(line);
  }
  doc.meta.c4 = { compat: 'datatrove', lines_kept: kept.length, sentences };
  if (sentences < o.min_num_sentences) return drop('too_few_sentences', `${sentences} sentences`);
  doc.text = pyStrip(kept.join('\n'));
  return KEEP;
}

/** datatrove's FineWebQualityFilter default (ours is the paper's 0.1). */
const DT_CHAR_DUPLICATES_RATIO = 0.01;

export function finewebDatatrove(doc: Doc, o: FinewebOptions): Verdict {
  const text = doc.text;
  const lines = text.split('\n').filter((l) => pyStrip(l) !== '');
  doc.meta.fineweb = { compat: 'datatrove', lines: lines.length };
  if (lines.length === 0) return drop('empty');
  const punct = lines.filter((l) => DT_TERMINAL.has(lastCodePoint(l))).length / lines.length;
  if (punct < o.line_punct_thr) return drop('line_punct_ratio');
  const short = lines.filter((l) => cpLen(l) <= o.short_line_length).length / lines.length;
  if (short > o.short_line_thr) return drop('short_line_ratio');
  const dup = divide(findDuplicates(lines).chars, cpLen(text.replace(/\n/g, '')), 'text of newlines only');
  if (dup > DT_CHAR_DUPLICATES_RATIO) return drop('char_dup_ratio');
  const words = spacyWords(text);
  if (divide(countOf(text, '\n'), words.length, 'no words') > o.new_line_ratio) return drop('list_ratio');
  return KEEP;
}
