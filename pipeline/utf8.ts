/**
 * UTF-8 of part of a JavaScript string straight into a byte buffer, for hot loops that encode many
 * short pieces (the Llama 3 tokenizer's pieces, lid.176's words) without a Buffer per piece.
 */

/**
 * Writes the UTF-8 of `text[start, end)` into `out` from `at` and returns the position after it.
 * The text must be well formed (no lone surrogates); `out` needs 3 bytes per UTF-16 unit.
 */
export function writeUtf8(text: string, start: number, end: number, out: Uint8Array, at: number): number {
  let n = at;
  for (let i = start; i < end; i++) {
    let c = text.charCodeAt(i);
    if (c < 0x80) out[n++] = c;
    else if (c < 0x800) {
      out[n++] = 0xc0 | (c >> 6);
      out[n++] = 0x80 | (c & 0x3f);
    } else if (c >= 0xd800 && c <= 0xdbff) {
      c = 0x10000 + ((c - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      out[n++] = 0xf0 | (c >> 18);
      out[n++] = 0x80 | ((c >> 12) & 0x3f);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    } else {
      out[n++] = 0xe0 | (c >> 12);
      out[n++] = 0x80 | ((c >> 6) & 0x3f);
      out[n++] = 0x80 | (c & 0x3f);
    }
  }
  return n;
}
