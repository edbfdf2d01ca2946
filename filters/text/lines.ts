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
    .filter((p) => p.trim() !== '');
}
