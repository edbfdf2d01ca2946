/**
 * Is this document source code? Code skips the prose rules (which would drop nearly all of
 * it) and gets `code-quality` instead. The first of these that applies decides:
 *   1. `meta.category`: `"code"` is code; any other category is not (a source rule in the
 *      pipeline YAML that sets the category is the way to say it for a whole source);
 *   2. `meta.programming_language` (as The Stack records it) is set: code, unless it names a
 *      prose format (Markdown, plain text, reStructuredText, AsciiDoc);
 *   3. `meta.language` names a programming language (`python`, `c++`, ...), not a human one;
 *   4. the file extension of `meta.path` / `meta.filename` / `meta.file`;
 *   5. a detector over the text: most non-empty lines look like code (see `looksLikeCode`), and
 *      the text is not HTML/XML markup (an e-mail or web page: markup, not program source).
 */
import type { Doc } from '../pipeline/doc.ts';
import { isSpace, nonEmptyLines } from './lines.ts';

export type CodeEvidence = 'category' | 'programming_language' | 'language' | 'extension' | 'detector';

export interface CodeDecision {
  isCode: boolean;
  by: CodeEvidence;
}

const PROGRAMMING_LANGUAGES = new Set([
  'assembly', 'bash', 'batchfile', 'c', 'c#', 'c++', 'clojure', 'cmake', 'cobol', 'coffeescript',
  'cpp', 'csharp', 'css', 'cuda', 'dart', 'dockerfile', 'elixir', 'elm', 'erlang', 'f#', 'fortran',
  'go', 'groovy', 'haskell', 'html', 'java', 'javascript', 'json', 'julia', 'jupyter', 'kotlin',
  'lisp', 'lua', 'makefile', 'matlab', 'objective-c', 'ocaml', 'pascal', 'perl', 'php',
  'powershell', 'prolog', 'python', 'r', 'racket', 'ruby', 'rust', 'scala', 'scheme', 'shell',
  'sql', 'swift', 'systemverilog', 'tcl', 'toml', 'typescript', 'verilog', 'vhdl', 'visual basic',
  'xml', 'yaml', 'zig', 'cython',
]);

const PROSE_FORMATS = new Set(['markdown', 'text', 'plain text', 'restructuredtext', 'rst', 'asciidoc', 'org']);

/**
 * Extensions of program source only. Data and markup formats (json, yaml, toml, xml, html) are
 * left out: a `meta.path` / `meta.file` often names the container a document was read from
 * (`sotu.json`, `pages.jsonl`), not the document itself; sources of such files set
 * `meta.programming_language` or `meta.category`.
 */
const CODE_EXTENSIONS = new Set([
  'asm', 'bash', 'bat', 'c', 'cc', 'cjs', 'clj', 'cmake', 'coffee', 'cpp', 'cs', 'css', 'cu', 'cxx',
  'dart', 'erl', 'ex', 'exs', 'f90', 'go', 'groovy', 'h', 'hh', 'hpp', 'hs', 'ipynb', 'java', 'jl',
  'js', 'jsx', 'kt', 'kts', 'lisp', 'lua', 'mjs', 'ml', 'mm', 'php', 'pl', 'pm', 'ps1', 'pxd', 'py',
  'pyx', 'rb', 'rkt', 'rs', 'scala', 'scm', 'sh', 'sql', 'sv', 'swift', 'tcl', 'ts', 'tsx', 'vb',
  'vhd', 'zig', 'zsh',
]);
const CODE_FILE_NAMES = new Set(['makefile', 'dockerfile', 'cmakelists.txt', 'gemfile', 'rakefile']);
const PROSE_EXTENSIONS = new Set(['md', 'markdown', 'txt', 'rst', 'adoc', 'org', 'tex']);

const cache = new WeakMap<Doc, { text: string; decision: CodeDecision }>();

export function detectCode(doc: Doc): CodeDecision {
  const hit = cache.get(doc);
  if (hit !== undefined && hit.text === doc.text) return hit.decision;
  const decision = decide(doc);
  cache.set(doc, { text: doc.text, decision });
  return decision;
}

export function isCode(doc: Doc): boolean {
  return detectCode(doc).isCode;
}

function decide(doc: Doc): CodeDecision {
  const m = doc.meta;
  if (typeof m.category === 'string' && m.category !== '') {
    return { isCode: m.category.toLowerCase() === 'code', by: 'category' };
  }
  if (typeof m.programming_language === 'string' && m.programming_language !== '') {
    return { isCode: !PROSE_FORMATS.has(m.programming_language.toLowerCase()), by: 'programming_language' };
  }
  if (typeof m.language === 'string' && PROGRAMMING_LANGUAGES.has(m.language.toLowerCase())) {
    return { isCode: true, by: 'language' };
  }
  for (const key of ['path', 'filename', 'file'] as const) {
    const v = m[key];
    if (typeof v !== 'string' || v === '') continue;
    const byExt = codeByFileName(v);
    if (byExt !== undefined) return { isCode: byExt, by: 'extension' };
  }
  return { isCode: detectorVerdict(doc.text), by: 'detector' };
}

/**
 * The detector's verdicts by a 64-bit hash of the text (with its length). A run reads documents
 * back as new objects after each global stage, so the per-object cache above misses there; the
 * text is the same and so is the verdict. Cleared when it reaches DETECTOR_CACHE_MAX entries
 * (about 100 bytes each).
 */
const detectorCache = new Map<string, boolean>();
const DETECTOR_CACHE_MAX = 1 << 18;

function detectorVerdict(text: string): boolean {
  const key = textKey(text);
  const hit = detectorCache.get(key);
  if (hit !== undefined) return hit;
  const verdict = looksLikeCode(text);
  if (detectorCache.size >= DETECTOR_CACHE_MAX) detectorCache.clear();
  detectorCache.set(key, verdict);
  return verdict;
}

/** Length and two independent 32-bit hashes (FNV-1a and a multiply-xorshift) of the UTF-16 code units. */
function textKey(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x9e3779b9;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x85ebca6b);
    b ^= b >>> 13;
  }
  return `${text.length}:${a >>> 0}:${b >>> 0}`;
}

function codeByFileName(path: string): boolean | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  if (CODE_FILE_NAMES.has(name)) return true;
  const dot = name.lastIndexOf('.');
  if (dot < 0) return undefined;
  const ext = name.slice(dot + 1);
  if (CODE_EXTENSIONS.has(ext)) return true;
  if (PROSE_EXTENSIONS.has(ext)) return false;
  return undefined;
}

/** Line starts and ends that prose rarely has and code usually does. */
const CODE_LINE_START =
  /^(?:def |class |import |from [\w.]+ import |#include|#define|#if|#endif|function\b|const |let |var |return\b|if ?\(|for ?\(|while ?\(|switch ?\(|public |private |protected |static |fn |pub |impl |package |func |use |namespace |using |@\w+|\/\/|\/\*|\*\/|\* |#!|}|\]|\)|end$|elif |else\b|try:|except\b|catch\b|print\(|echo |export |module |struct |enum |interface |type \w+ =|async |await |#\s|"""|'''|\$ |\w+\s*\(.*\)$|[\w.]+\s*=\s*|--?\w[\w-]* )/;
/**
 * `\w\.\w+\(` finds the same lines as `\w+\.\w+\(` (a match of one holds a match of the other)
 * without retrying every start inside a long word, which makes the longer pattern costly on prose
 * (bench/filters.bench.ts measures code-quality).
 */
const CODE_OPERATOR = /(?:==|!=|&&|\|\||::|=>|->|\+=|<-|\w\(\)|\w\.\w+\(|\$\{?\w|\s--\w)/;

/**
 * A code line end: `/(?:[;{}]|\)\s*:|\[|\(|=>|->|,\s*\\|\\)$/` as a look at the last characters
 * (a regex with only an end anchor is tried from every position of the line).
 */
function hasCodeLineEnd(line: string): boolean {
  const n = line.length;
  if (n === 0) return false;
  const c = line.charCodeAt(n - 1);
  // ; { } [ ( \
  if (c === 0x3b || c === 0x7b || c === 0x7d || c === 0x5b || c === 0x28 || c === 0x5c) return true;
  // => ->
  if (c === 0x3e && n >= 2) {
    const b = line.charCodeAt(n - 2);
    return b === 0x3d || b === 0x2d;
  }
  // ) then white space then :
  if (c === 0x3a) {
    let i = n - 2;
    while (i >= 0 && isSpace(line.charCodeAt(i))) i--;
    return i >= 0 && line.charCodeAt(i) === 0x29;
  }
  return false;
}

/**
 * The detector: at least 3 non-empty lines, at least half of them look like code (a code line
 * start, a code line end, or an operator prose does not use), and the text is not markup (see
 * `isMarkup`). Measured on the dev set in docs/filters.md ("Recognising code").
 */
export function looksLikeCode(text: string, minCodeLineFraction = 0.5): boolean {
  const lines = nonEmptyLines(text);
  return codeLineShare(lines) >= minCodeLineFraction && lines.length >= 3 && !markup(text, lines);
}

/** A line that opens an HTML or XML document (a doctype or document element). */
const MARKUP_DOCUMENT = /^<(?:!doctype\s+html|html|head|body|\?xml)[\s>]/i;
/** How far into the text (non-empty lines) a document element counts: past a subject line and headers. */
const MARKUP_DOCUMENT_WITHIN = 10;
/** A tag of HTML's text vocabulary, or a comment: `<br>`, `</font>`, `<a href=...>`, `<!--`. */
const HTML_TAG =
  /<\/?(?:a|abbr|b|big|blockquote|body|br|center|dd|div|dl|dt|em|font|form|h[1-6]|head|hr|html|i|img|input|li|link|meta|ol|option|p|pre|script|select|small|span|strong|style|sub|sup|table|tbody|td|textarea|th|thead|title|tr|u|ul)(?:\s[^<>]*)?\/?>|<!--/i;

/**
 * Is this text HTML or XML markup (an HTML e-mail, a web page, an RSS feed)? Markup is not program
 * source, whatever share of its lines end in `;` or `{` (inline CSS and scripts). True when one of
 * its first 10 non-empty lines opens a document (`<html>`, `<body>`, `<!DOCTYPE html>`, `<?xml`)
 * (further down, such a line is more likely a string in a program that handles HTML), or when a
 * quarter of its non-empty lines carry an HTML tag or comment. PHP (`<?php`) is a program that
 * outputs markup, not markup. HTML source in a code corpus is still code by rules 1-4.
 */
export function isMarkup(text: string): boolean {
  return markup(text, nonEmptyLines(text));
}

function markup(text: string, lines: readonly string[]): boolean {
  if (text.includes('<?php')) return false;
  if (lines.slice(0, MARKUP_DOCUMENT_WITHIN).some((l) => MARKUP_DOCUMENT.test(l))) return true;
  let tagged = 0;
  // Every tag starts with `<`: a line without one is not tested.
  for (const line of lines) if (line.includes('<') && HTML_TAG.test(line)) tagged++;
  return lines.length > 0 && tagged >= 0.25 * lines.length;
}

export function codeLineFraction(text: string): number {
  return codeLineShare(nonEmptyLines(text));
}

function codeLineShare(lines: readonly string[]): number {
  if (lines.length === 0) return 0;
  let code = 0;
  for (const line of lines) {
    if (CODE_LINE_START.test(line) || hasCodeLineEnd(line) || CODE_OPERATOR.test(line)) code++;
  }
  return code / lines.length;
}
