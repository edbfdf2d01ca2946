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
 * no-space scripts go through `Intl.Segmenter` (about 0.4 MB/s here), the rest through the regex
 * (about 23 MB/s), so an English page that quotes a few Chinese characters stays fast.
 */
export function splitWords(text: string): string[] {
  if (!needsSegmenter(text)) return text.match(WORD) ?? [];
  segmenter ??= new Intl.Segmenter('und', { granularity: 'word' });
  const words: string[] = [];
  let last = 0;
  for (const m of text.matchAll(NO_SPACE_RUN)) {
    for (const w of text.slice(last, m.index).match(WORD) ?? []) words.push(w);
    for (const s of segmenter.segment(m[0])) if (s.isWordLike) words.push(s.segment);
    last = m.index + m[0].length;
  }
  for (const w of text.slice(last).match(WORD) ?? []) words.push(w);
  return words;
}

const LETTER = /\p{L}/u;

export function hasLetter(word: string): boolean {
  return LETTER.test(word);
}
