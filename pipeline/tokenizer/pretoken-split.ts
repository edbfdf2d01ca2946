/**
 * Meta's pre-tokenisation pattern, for the pre-token cache: text is split here, and each distinct
 * piece is encoded once. `pretokenEnd` is the pattern written out as a scanner over character
 * classes; `LLAMA3_PRETOKEN_REGEX` is the same pattern as a JavaScript regex, the readable
 * specification the scanner is checked against (tests/tokenizer-pretoken.test.ts, which also
 * checks both against tiktoken's own split on every code point).
 *
 * JavaScript's `\s` is not Unicode White_Space (it includes U+FEFF and excludes U+0085), so `\s`
 * is spelled out as White_Space; `(?i:'s|...)` becomes explicit classes (Rust folds 's' with
 * U+017F too).
 */

/** Unicode White_Space, the meaning of `\s` in Rust's regex and so in Meta's tokenizer. */
const WHITE_SPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

export const LLAMA3_PRETOKEN_REGEX = new RegExp(
  [
    "'(?:[sS\\u017f]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])",
    '[^\\r\\n\\p{L}\\p{N}]?\\p{L}+',
    '\\p{N}{1,3}',
    ` ?[^${WHITE_SPACE}\\p{L}\\p{N}]+[\\r\\n]*`,
    `[${WHITE_SPACE}]*[\\r\\n]+`,
    `[${WHITE_SPACE}]+(?![^${WHITE_SPACE}])`,
    `[${WHITE_SPACE}]+`,
  ].join('|'),
  'gu',
);

/**
 * Code points whose letter/number class differs between this Node's ICU and the Unicode tables
 * compiled into tiktoken's WASM (characters added in Unicode 16). Text containing one is encoded
 * by tiktoken alone, without the cache.
 */
export const UNICODE_VERSION_SKEW = /[\u{11DE0}-\u{11DE9}\u{16FF4}-\u{16FF6}]/u;

// Character classes of the pattern. Every White_Space character is in the BMP.
const OTHER = 0;
const LETTER = 1;
const NUMBER = 2;
const SPACE = 3; // White_Space but \r and \n
const NEWLINE = 4; // \r, \n

const WHITE_SPACE_CHAR = new RegExp(`^[${WHITE_SPACE}]$`);
const LETTER_CHAR = /^\p{L}$/u;
const NUMBER_CHAR = /^\p{N}$/u;

function classify(cp: number): number {
  if (cp === 0x0a || cp === 0x0d) return NEWLINE;
  const c = String.fromCodePoint(cp);
  if (WHITE_SPACE_CHAR.test(c)) return SPACE;
  if (LETTER_CHAR.test(c)) return LETTER;
  if (NUMBER_CHAR.test(c)) return NUMBER;
  return OTHER;
}

/** Classes of the BMP by code unit (surrogates: OTHER; pairs are looked up in `ASTRAL`). */
const BMP = new Uint8Array(0x10000);
for (let cp = 0; cp < 0x10000; cp++) BMP[cp] = cp >= 0xd800 && cp <= 0xdfff ? OTHER : classify(cp);
const ASTRAL = new Map<number, number>();

/** Class of the code point at `i` (a high surrogate followed by a low one is one astral code point). */
function classAt(text: string, i: number): number {
  const u = text.charCodeAt(i);
  if (u < 0xd800 || u > 0xdbff || i + 1 >= text.length) return BMP[u]!;
  const lo = text.charCodeAt(i + 1);
  if (lo < 0xdc00 || lo > 0xdfff) return OTHER;
  const cp = ((u - 0xd800) << 10) + (lo - 0xdc00) + 0x10000;
  let cls = ASTRAL.get(cp);
  if (cls === undefined) ASTRAL.set(cp, (cls = classify(cp)));
  return cls;
}

/** UTF-16 units of the code point at `i`. */
function widthAt(text: string, i: number): number {
  const u = text.charCodeAt(i);
  if (u < 0xd800 || u > 0xdbff || i + 1 >= text.length) return 1;
  const lo = text.charCodeAt(i + 1);
  return lo >= 0xdc00 && lo <= 0xdfff ? 2 : 1;
}

function runEnd(text: string, i: number, cls: number): number {
  while (i < text.length && classAt(text, i) === cls) i += widthAt(text, i);
  return i;
}

/**
 * End of the pre-token that starts at `start` (< text.length): where `LLAMA3_PRETOKEN_REGEX`'s
 * match there ends, alternative by alternative. Scanning a class table instead of running the
 * regex, which costs more CPU per piece (bench/tokenizer.bench.ts measures the tokenizer).
 */
export function pretokenEnd(text: string, start: number): number {
  const n = text.length;
  const c = text.charCodeAt(start);
  const cls = classAt(text, start);
  const next = start + widthAt(text, start);
  // 1. '(?:[sSſ]|[tT]|[rR][eE]|[vV][eE]|[mM]|[lL][lL]|[dD])   (x | 0x20: ASCII lower case)
  if (c === 0x27 && next < n) {
    const c1 = text.charCodeAt(next);
    const l1 = c1 | 0x20;
    if (l1 === 0x73 || c1 === 0x17f || l1 === 0x74 || l1 === 0x6d || l1 === 0x64) return next + 1;
    if (next + 1 < n) {
      const l2 = text.charCodeAt(next + 1) | 0x20;
      if (((l1 === 0x72 || l1 === 0x76) && l2 === 0x65) || (l1 === 0x6c && l2 === 0x6c)) return next + 2;
    }
  }
  // 2. [^\r\n\p{L}\p{N}]?\p{L}+
  if (cls === LETTER) return runEnd(text, next, LETTER);
  if ((cls === OTHER || cls === SPACE) && next < n && classAt(text, next) === LETTER) return runEnd(text, next, LETTER);
  // 3. \p{N}{1,3}
  if (cls === NUMBER) {
    let end = next;
    for (let k = 1; k < 3 && end < n && classAt(text, end) === NUMBER; k++) end += widthAt(text, end);
    return end;
  }
  // 4. ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  if (cls === OTHER || (c === 0x20 && next < n && classAt(text, next) === OTHER)) {
    let end = runEnd(text, cls === OTHER ? start : next, OTHER);
    while (end < n && BMP[text.charCodeAt(end)] === NEWLINE) end++;
    return end;
  }
  // White space from here: the run is [start, end).
  let end = start;
  let lastNewline = -1;
  for (; end < n; end++) {
    const k = BMP[text.charCodeAt(end)];
    if (k === NEWLINE) lastNewline = end;
    else if (k !== SPACE) break;
  }
  // 5. \s*[\r\n]+   (backtracks to the run's last \r or \n)
  if (lastNewline >= 0) return lastNewline + 1;
  // 6. \s+(?!\S)   (all of a run at the end of the text, else all but its last character)
  // 7. \s+         (a single character before non-space)
  return end === n || end - start === 1 ? end : end - 1;
}
