/**
 * Characters that end a sentence, across scripts (Latin, CJK, Devanagari, Arabic, Ethiopic, ...).
 * Closing quotes count, as in C4 and FineWeb; colons and semicolons do not ("Ingredients:").
 */
import { isSpace } from './lines.ts';

export const TERMINAL_PUNCTUATION: ReadonlySet<string> = new Set([
  '.', '!', '?', '"', "'", '”', '’', '»', '…',
  '。', '！', '？', '．', '｡', '」', '』',
  '।', '॥', '؟', '۔', '።', '፧', '᙮', '︒', '﹒', '﹗', '﹖',
]);

/** Every member is one UTF-16 code unit: the set by char code, for a test without substrings. */
const TERMINAL_CODES: ReadonlySet<number> = new Set(Array.from(TERMINAL_PUNCTUATION, (c) => c.charCodeAt(0)));

/** Does the line, white space trimmed from its end, end in terminal punctuation? */
export function endsWithTerminalPunctuation(line: string): boolean {
  let end = line.length;
  while (end > 0 && isSpace(line.charCodeAt(end - 1))) end--;
  return end > 0 && TERMINAL_CODES.has(line.charCodeAt(end - 1));
}
