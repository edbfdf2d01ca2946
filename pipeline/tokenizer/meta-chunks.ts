/**
 * Meta's Llama 3 `Tokenizer.encode` (llama/tokenizer.py) does not hand a long string to tiktoken
 * in one piece: it cuts it into slices of 400,000 characters, and cuts each slice again wherever
 * a run of whitespace or of non-whitespace characters grows past 25,000 characters
 * (https://github.com/openai/tiktoken/issues/195). BPE then runs on each piece separately, so on such text the cut points
 * change the ids; to produce Meta's ids we cut at the same places. Lengths are counted in code
 * points and "whitespace" is Python's `str.isspace()`, as in Meta's code.
 */

/** Meta: TIKTOKEN_MAX_ENCODE_CHARS. */
export const MAX_ENCODE_CHARS = 400_000;
/** Meta: MAX_NO_WHITESPACES_CHARS. */
export const MAX_CONSECUTIVE_SLICE_LEN = 25_000;

/**
 * Python's `str.isspace()`: bidirectional class WS, B or S, or general category Zs. Differs from
 * Unicode White_Space (the regex `\s`) by also counting U+001C..U+001F.
 */
export function isPythonSpace(cp: number): boolean {
  if (cp <= 0x20) return (cp >= 0x09 && cp <= 0x0d) || (cp >= 0x1c && cp <= 0x20);
  if (cp < 0x85) return false;
  return (
    cp === 0x85 || cp === 0xa0 || cp === 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
    cp === 0x2028 || cp === 0x2029 || cp === 0x202f || cp === 0x205f || cp === 0x3000
  );
}

/** `isPythonSpace` of each UTF-16 unit (surrogates: not space), 1 or 0. */
const PYTHON_SPACE = new Uint8Array(0x10000);
for (let u = 0; u < 0x10000; u++) PYTHON_SPACE[u] = isPythonSpace(u) ? 1 : 0;

/**
 * Whether no run of space or non-space UTF-16 units in `text` is longer than
 * MAX_CONSECUTIVE_SLICE_LEN: then no run of code points is either, and Meta cuts nothing. A table
 * lookup per unit instead of a code point walk, because it reads every tokenized character
 * (bench/tokenizer.bench.ts measures tokens/s).
 */
function noLongRun(text: string): boolean {
  let run = 0;
  let space = -1;
  for (let i = 0; i < text.length; i++) {
    const s = PYTHON_SPACE[text.charCodeAt(i)]!;
    if (s === space) {
      if (++run > MAX_CONSECUTIVE_SLICE_LEN) return false;
    } else {
      space = s;
      run = 1;
    }
  }
  return true;
}

/** The pieces Meta's encoder passes to tiktoken, in order; concatenated they give `text`. */
export function metaEncodeChunks(text: string): string[] {
  // Each piece has at most as many code points as UTF-16 units: short text is never cut.
  if (text.length <= MAX_CONSECUTIVE_SLICE_LEN) return [text];
  if (text.length <= MAX_ENCODE_CHARS && noLongRun(text)) return [text];
  const out: string[] = [];
  let pieceStart = 0;
  let codePointsInSlice = 0;
  let runLength = 0;
  let runIsSpace = false;
  let i = 0;
  while (i < text.length) {
    const cp = text.codePointAt(i)!;
    const width = cp > 0xffff ? 2 : 1;
    if (codePointsInSlice === MAX_ENCODE_CHARS) {
      out.push(text.slice(pieceStart, i));
      pieceStart = i;
      codePointsInSlice = 0;
    }
    const space = isPythonSpace(cp);
    if (codePointsInSlice === 0) {
      runIsSpace = space;
      runLength = 1;
    } else if (space !== runIsSpace) {
      runIsSpace = space;
      runLength = 1;
    } else if (++runLength > MAX_CONSECUTIVE_SLICE_LEN) {
      out.push(text.slice(pieceStart, i));
      pieceStart = i;
      runLength = 1;
    }
    codePointsInSlice++;
    i += width;
  }
  out.push(text.slice(pieceStart));
  return out;
}
