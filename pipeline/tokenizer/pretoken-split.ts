/**
 * Meta's pre-tokenisation pattern as a JavaScript regex, for the pre-token cache: text is split
 * here, and tiktoken encodes each distinct piece once. JavaScript's `\s` is not Unicode
 * White_Space (it includes U+FEFF and excludes U+0085), so `\s` is spelled out as White_Space;
 * `(?i:'s|...)` becomes explicit classes (Rust folds 's' with U+017F too). Checked against
 * tiktoken's own split on every code point in tests/tokenizer-pretoken.test.ts.
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
