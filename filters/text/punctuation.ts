/**
 * Characters that end a sentence, across scripts (Latin, CJK, Devanagari, Arabic, Ethiopic, ...).
 * Closing quotes count, as in C4 and FineWeb; colons and semicolons do not ("Ingredients:").
 */
export const TERMINAL_PUNCTUATION: ReadonlySet<string> = new Set([
  '.', '!', '?', '"', "'", '”', '’', '»', '…',
  '。', '！', '？', '．', '｡', '」', '』',
  '।', '॥', '؟', '۔', '።', '፧', '᙮', '︒', '﹒', '﹗', '﹖',
]);

export function endsWithTerminalPunctuation(line: string): boolean {
  const t = line.trimEnd();
  return t.length > 0 && TERMINAL_PUNCTUATION.has(t[t.length - 1]!);
}
