/** Line and paragraph splitting, shared by the rules so that they count the same units. */

/** Every line, empty ones included (`\r\n` and `\n` both end a line). */
export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}

/** Lines that hold something other than white space, trimmed. */
export function nonEmptyLines(text: string): string[] {
  const out: string[] = [];
  for (const line of splitLines(text)) {
    const t = line.trim();
    if (t !== '') out.push(t);
  }
  return out;
}

/** Paragraphs: blocks separated by one or more blank lines. */
export function splitParagraphs(text: string): string[] {
  return text
    .trim()
    .split(/\r?\n(?:[ \t]*\r?\n)+/)
    .filter(hasNonSpace);
}

/** `s.trim() !== ''`, without the trimmed copy. */
export function hasNonSpace(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isSpace(s.charCodeAt(i))) return true;
  return false;
}

/** Is this UTF-16 code unit white space as `\s` and `String.prototype.trim` define it (WhiteSpace and LineTerminator)? */
export function isSpace(c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d);
  if (c < 0xa0) return false;
  return (
    c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 ||
    c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
  );
}
