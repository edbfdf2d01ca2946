/**
 * Word splitting for every script. Languages written with spaces are split by a Unicode
 * regex (fast); text that contains a script written without spaces (Chinese, Japanese,
 * Thai, Lao, Khmer, Myanmar, Tibetan) goes through `Intl.Segmenter`, whose ICU dictionaries
 * find word boundaries there.
 */

const NO_SPACE_CLASS =
  '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Thai}\\p{Script=Lao}\\p{Script=Khmer}\\p{Script=Myanmar}\\p{Script=Tibetan}\\u30FC';
const NO_SPACE_SCRIPT = new RegExp(`[${NO_SPACE_CLASS}]`, 'u');
/** A run of no-space script, with the marks and digits inside it (Thai vowels are marks). */
export const NO_SPACE_RUN = new RegExp(`[${NO_SPACE_CLASS}][${NO_SPACE_CLASS}\\p{M}\\p{N}]*`, 'gu');

/** A run of letters, marks and digits, with inner apostrophes, hyphens and dots ("don't", "e-mail", "3.14"). */
const WORD = /[\p{L}\p{M}\p{N}]+(?:['’\-.][\p{L}\p{M}\p{N}]+)*/gu;

let segmenter: Intl.Segmenter | undefined;

export function needsSegmenter(text: string): boolean {
  return NO_SPACE_SCRIPT.test(text);
}

/**
 * The words of `text`, in order; punctuation and symbols are not words. Only the runs of
 * no-space scripts go through `Intl.Segmenter`, which is far slower than the regex the rest goes
 * through, so an English page that quotes a few Chinese characters stays fast (bench/filters.bench.ts
 * measures `splitWords`).
 */
export function splitWords(text: string, segments?: SegmentCache): string[] {
  if (!needsSegmenter(text)) return text.match(WORD) ?? [];
  segmenter ??= new Intl.Segmenter('und', { granularity: 'word' });
  const words: string[] = [];
  let last = 0;
  for (const m of text.matchAll(NO_SPACE_RUN)) {
    for (const w of text.slice(last, m.index).match(WORD) ?? []) words.push(w);
    const run = m[0];
    let runWords = segments?.get(run);
    if (runWords === undefined) {
      const found: string[] = [];
      for (const s of segmenter.segment(run)) if (s.isWordLike) found.push(s.segment);
      segments?.set(run, found);
      runWords = found;
    }
    for (const w of runWords) words.push(w);
    last = m.index + run.length;
  }
  for (const w of text.slice(last).match(WORD) ?? []) words.push(w);
  return words;
}

/**
 * The words Intl.Segmenter found in runs of no-space script, by run: the rules split one document
 * several times (its text, its lines in c4, its text again after c4 changed it), and the
 * segmenter is slow (see splitWords); doc-text.ts keeps one cache per document.
 */
export type SegmentCache = Map<string, readonly string[]>;

const LETTER = /\p{L}/u;

export function hasLetter(word: string): boolean {
  return LETTER.test(word);
}
