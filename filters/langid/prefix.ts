/**
 * The bounded prefix that `langid` classifies: the model's cost is linear in the characters it is
 * given, and the first few thousand characters name the language of nearly every document.
 */

/** JavaScript's `\s` (the white space `normaliseForLid` folds), as UTF-16 code units. */
export function isWhiteSpace(code: number): boolean {
  return (
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x20 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/**
 * At most `maxChars` characters (UTF-16 code units) from the start of `text`, cut at the last
 * white space in the second half of that window, so that the model sees whole words. Text with no
 * white space there (Chinese or Japanese without spaces, one long token) is cut at `maxChars`,
 * never inside a surrogate pair. `maxChars` 0 means the whole text.
 */
export function lidPrefix(text: string, maxChars: number): string {
  if (maxChars === 0 || text.length <= maxChars) return text;
  for (let end = maxChars; end > maxChars / 2; end--) {
    if (isWhiteSpace(text.charCodeAt(end))) return text.slice(0, end);
  }
  const low = text.charCodeAt(maxChars);
  return text.slice(0, low >= 0xdc00 && low <= 0xdfff ? maxChars - 1 : maxChars);
}
