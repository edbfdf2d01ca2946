/**
 * Main text of an HTML page. @mozilla/readability (Firefox's Reader View) picks the main
 * content on a linkedom DOM; a small walker turns that content into text, one line per block
 * element, as Common Crawl's WET files do. Pages that Readability cannot read as an article
 * (home pages, listings) fall back to the text of the whole <body> without scripts, styles,
 * navigation, headers and footers. See docs/readers.md for the measured comparison with
 * html-to-text.
 *
 * `extractPageText(html, 'fast')` hands the page to html-main-text.ts instead (the reader's
 * default, `reader.html_extractor`); this file's Readability path is `readability`.
 */
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';
import { extractMainText } from './html-main-text.ts';
import { delimitTex, mathImageTex, mathText, texScriptMode, type MathNode } from './html-math.ts';
import type { HtmlExtractor } from './read-item.ts';

export interface PageText {
  text: string;
  title?: string;
  /** The page's own language tag (`<html lang>`), if any; not a detection. */
  lang?: string;
  /** Which extraction produced `text`: Readability's article, the fast extractor's main content, or the whole body. */
  method: 'readability' | 'main' | 'body';
}

/** Readability results shorter than this are ignored in favour of the whole body's text. */
const MIN_ARTICLE_CHARS = 200;
/**
 * ... or shorter than this share of the body's text: Readability then picked one item of a list
 * page (a home page's publication list gave 848 of 11,948 characters in our sample).
 */
const MIN_ARTICLE_SHARE = 0.1;
/**
 * Readability slows down badly on deeply nested trees (tests/readers-html-text.test.ts reads a page
 * 20,000 elements deep): deeper pages, and pages with more elements, go straight to
 * the body text. The 53 real pages of our samples are at most 20 deep and 1,108 elements large.
 */
const MAX_READABILITY_DEPTH = 256;
const MAX_READABILITY_ELEMENTS = 100_000;

const SKIP = new Set(['script', 'style', 'noscript', 'template', 'svg', 'iframe', 'object', 'canvas', 'head', 'select', 'button']);
const BOILERPLATE = new Set(['nav', 'header', 'footer', 'aside', 'form', 'menu']);
const BLOCK = new Set([
  'address', 'article', 'blockquote', 'br', 'caption', 'dd', 'details', 'dialog', 'div', 'dl', 'dt', 'fieldset', 'figcaption',
  'figure', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'ol', 'p', 'pre', 'section', 'summary',
  'table', 'tr', 'ul', 'body', 'html',
]);

export function extractPageText(html: string, extractor: HtmlExtractor = 'readability'): PageText {
  if (extractor === 'fast') return extractMainText(html);
  const { document } = parseHTML(html);
  mathAsText(document as unknown as MathDocument);
  const lang = document.documentElement?.getAttribute('lang')?.trim() || undefined;
  const title = document.title?.trim() || undefined;
  // The body text is taken first: Readability rewrites the tree it reads.
  const body = (document.body ?? document.documentElement) as unknown as DomNode | null;
  const { text: bodyText, depth } = body ? walkText(body, new Set([...SKIP, ...BOILERPLATE])) : { text: '', depth: 0 };
  let article: ReturnType<Readability<string>['parse']> = null;
  if (depth <= MAX_READABILITY_DEPTH) {
    try {
      const options = { maxElemsToParse: MAX_READABILITY_ELEMENTS, serializer: (node: unknown) => blockText(node as DomNode, SKIP) };
      article = new Readability<string>(document as unknown as ConstructorParameters<typeof Readability>[0], options).parse();
    } catch {
      article = null; // too many elements, or a tree Readability cannot handle: the body text serves
    }
  }
  const articleText = article?.content ?? '';
  if (articleText.length >= MIN_ARTICLE_CHARS && articleText.length >= MIN_ARTICLE_SHARE * bodyText.length) {
    return { text: articleText, title: article?.title?.trim() || title, lang: lang ?? (article?.lang || undefined), method: 'readability' };
  }
  return bodyText || !articleText ? { text: bodyText, title, lang, method: 'body' } : { text: articleText, title, lang, method: 'readability' };
}

/** The part of the DOM that mathAsText uses. */
interface MathElement {
  tagName: string;
  attributes: ArrayLike<{ name: string; value: string }>;
  childNodes: ArrayLike<MathElement & { nodeType: number; nodeValue: string | null }>;
  textContent: string | null;
  replaceWith(node: unknown): void;
}
interface MathDocument {
  querySelectorAll(selector: string): ArrayLike<MathElement>;
  createTextNode(text: string): unknown;
  createElement(tag: string): { append(node: unknown): void };
}

function attributesOf(el: MathElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < el.attributes.length; i++) {
    const a = el.attributes[i];
    if (a) out[a.name.toLowerCase()] = a.value;
  }
  return out;
}

function mathNode(el: MathElement): MathNode {
  const kids: MathNode['kids'] = [];
  for (let i = 0; i < el.childNodes.length; i++) {
    const k = el.childNodes[i];
    if (!k) continue;
    if (k.nodeType === TEXT) kids.push(k.nodeValue ?? '');
    else if (k.nodeType === ELEMENT) kids.push(mathNode(k));
  }
  return { tag: el.tagName.toLowerCase(), attrs: attributesOf(el), kids };
}

/**
 * Math becomes its TeX as text before anything reads the page (html-math.ts, as the fast
 * extractor writes it): MathML, MathJax's TeX scripts (which Readability would drop with every
 * script) and math images; display math as a paragraph of its own.
 */
function mathAsText(document: MathDocument): void {
  const replace = (el: MathElement, text: string, display: boolean) => {
    if (!display) {
      el.replaceWith(document.createTextNode(text));
      return;
    }
    const p = document.createElement('p');
    p.append(document.createTextNode(text));
    el.replaceWith(p);
  };
  for (const el of Array.from(document.querySelectorAll('math'))) {
    const node = mathNode(el);
    replace(el, mathText(node), node.attrs.display === 'block');
  }
  for (const el of Array.from(document.querySelectorAll('script'))) {
    const mode = texScriptMode(attributesOf(el));
    if (mode) replace(el, delimitTex(el.textContent ?? '', mode === 'display'), mode === 'display');
  }
  for (const el of Array.from(document.querySelectorAll('img'))) {
    const tex = mathImageTex(attributesOf(el));
    if (tex) replace(el, tex, tex.startsWith('$$'));
  }
}

/** The part of a DOM node the walker reads (linkedom and the browser DOM both have it). */
interface DomNode {
  nodeType: number;
  nodeName: string;
  nodeValue: string | null;
  childNodes: ArrayLike<DomNode>;
}

const ELEMENT = 1;
const TEXT = 3;

/**
 * Text of a subtree: one line per block element, spaces collapsed except inside <pre>.
 * Iterative, so that a page nested ten thousand levels deep does not overflow the stack.
 */
function blockText(root: DomNode, skip: Set<string>): string {
  return walkText(root, skip).text;
}

function walkText(root: DomNode, skip: Set<string>): { text: string; depth: number } {
  const lines: string[] = [];
  let depth = 0;
  let line = '';
  /** The line holds text of a <pre>: its spaces are kept, only trailing ones cut. */
  let linePre = false;
  const flush = () => {
    const t = linePre ? line.replace(/\s+$/, '') : line.replace(/[ \t\f\v\u00a0]+/g, ' ').trim();
    if (t.trim()) lines.push(t);
    line = '';
    linePre = false;
  };
  // `null` marks the end of a block element: its last line is flushed then.
  const stack: ({ node: DomNode; inPre: boolean; level: number } | null)[] = [{ node: root, inPre: false, level: 0 }];
  while (stack.length > 0) {
    const entry = stack.pop();
    if (entry === undefined) break;
    if (entry === null) {
      flush();
      continue;
    }
    const { node, inPre, level } = entry;
    if (level > depth) depth = level;
    if (node.nodeType === TEXT) {
      const v = node.nodeValue ?? '';
      if (inPre) {
        const parts = v.split('\n');
        line += parts[0];
        linePre = true;
        for (let i = 1; i < parts.length; i++) {
          lines.push(line.replace(/\s+$/, ''));
          line = parts[i]!;
        }
      } else line += v.replace(/\s+/g, ' ');
      continue;
    }
    if (node.nodeType !== ELEMENT) continue;
    const tag = node.nodeName.toLowerCase();
    if (skip.has(tag)) continue;
    const block = BLOCK.has(tag);
    if (block) {
      flush();
      stack.push(null);
    }
    if (tag === 'td' || tag === 'th') line += ' ';
    const pre = inPre || tag === 'pre';
    for (let i = node.childNodes.length - 1; i >= 0; i--) stack.push({ node: node.childNodes[i]!, inPre: pre, level: level + 1 });
  }
  flush();
  return { text: lines.join('\n'), depth };
}

/**
 * Decodes a text or HTML payload: charset from the HTTP Content-Type, else from a <meta> tag in the
 * first 4 KB, else UTF-8. Undecodable bytes become U+FFFD rather than failing the page.
 */
export function decodeText(bytes: Uint8Array, contentType?: string | null): { text: string; charset: string } {
  const declared = charsetOf(contentType ?? '') ?? charsetOf(sniffMeta(bytes));
  for (const label of [declared, 'utf-8']) {
    if (!label) continue;
    try {
      const decoder = new TextDecoder(label);
      if (decoder.encoding === 'windows-1252') return { text: decodeWindows1252(bytes), charset: decoder.encoding };
      return { text: decoder.decode(bytes), charset: decoder.encoding };
    } catch {
      // An unknown charset label: fall through to UTF-8.
    }
  }
  return { text: new TextDecoder().decode(bytes), charset: 'utf-8' };
}

/**
 * Bytes 0x80-0x9F of windows-1252 (the WHATWG meaning of "iso-8859-1", "latin1" and "ascii"
 * too) are curly quotes, dashes, the euro sign...; Node 20's TextDecoder turns them into C1
 * control characters instead, so this one table is applied here.
 */
const CP1252_HIGH = '\u20ac\u0081\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u008d\u017d\u008f\u0090\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u009d\u017e\u0178';

function decodeWindows1252(bytes: Uint8Array): string {
  const latin1 = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return latin1.replace(/[\x80-\x9f]/g, (c) => CP1252_HIGH[c.charCodeAt(0) - 0x80]!); // c is \x80-\x9f: one of its 32 characters
}

function charsetOf(s: string): string | undefined {
  return /charset\s*=\s*["']?([\w.:-]+)/i.exec(s)?.[1]?.toLowerCase();
}

function sniffMeta(bytes: Uint8Array): string {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 4096)).toString('latin1');
  return /<meta[^>]+charset\s*=\s*["']?[\w.:-]+/i.exec(head)?.[0] ?? '';
}

/** True for media types whose payload is text a document can be made of. */
export function isTextMediaType(contentType: string | null | undefined): boolean {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return t === '' || t.startsWith('text/') || t === 'application/xhtml+xml' || t === 'application/xml' || t.endsWith('+xml');
}

export function isHtmlMediaType(contentType: string | null | undefined): boolean {
  const t = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  return t === 'text/html' || t === 'application/xhtml+xml';
}
