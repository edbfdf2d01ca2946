/**
 * Token boundaries shared by the detectors: a number that is part of a longer token (a hash, an
 * identifier, a decimal, a version number) is not personal data, so a match must stand alone.
 */

const code = (text: string, i: number): number => (i >= 0 && i < text.length ? text.charCodeAt(i) : -1);

export const isDigitCode = (c: number): boolean => c >= 48 && c <= 57;
export const isAsciiLetterCode = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
const isWordCode = (c: number): boolean => isDigitCode(c) || isAsciiLetterCode(c) || c === 95 || c > 127;

/**
 * True when `text[start, end)` is not glued to a letter, digit or underscore on either side, nor
 * to a `.`, `-` or `/` that continues a number (`1.2.3.4.5`, `2019-07-15-1`, `12/25/2019`), nor
 * to a word by a `.`, `-`, `_` or (before it) `/`.
 */
export function standsAlone(text: string, start: number, end: number): boolean {
  const before = code(text, start - 1);
  const after = code(text, end);
  if (isWordCode(before) || isWordCode(after)) return false;
  const joins = (c: number) => c === 46 || c === 45 || c === 47 || c === 44; // . - / ,
  if (joins(before) && isDigitCode(code(text, start - 2))) return false;
  if (joins(after) && isDigitCode(code(text, end + 1))) return false;
  // `TPAS.1971.293048` (a DOI), `Chrome/126.0.0.0`, `build_20020411`, `1.3.1.1-motley`: part of a longer token.
  if ((before === 46 || before === 45 || before === 95 || before === 47) && isAsciiLetterCode(code(text, start - 2))) return false;
  if ((after === 45 || after === 95) && isAsciiLetterCode(code(text, end + 1))) return false;
  return true;
}

/** The digits of a candidate, without its separators. */
export function digitsOf(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) if (isDigitCode(s.charCodeAt(i))) out += s[i];
  return out;
}
