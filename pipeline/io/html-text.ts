/**
 * Main text of an HTML page. @mozilla/readability (Firefox's Reader View) picks the main
 * content on a linkedom DOM; a small walker turns that content into text, one line per block
 * element, as Common Crawl's WET files do. Pages that Readability cannot read as an article
 * (home pages, listings) fall back to the text of the whole <body> without scripts, styles,
 * navigation, headers and footers. See docs/readers.md for the measured comparison with
 * html-to-text.
 */
import { Readability } from '@mozilla/readability';
import { parseHTML } from 'linkedom';

export interface PageText {
  text: string;
  title?: string;
  /** The page's own language tag (`<html lang>`), if any; not a detection. */
  lang?: string;
  /** Which extraction produced `text`. */
  method: 'readability' | 'body';
}

/** Readability results shorter than this are ignored in favour of the whole body's text. */
const MIN_ARTICLE_CHARS = 200;

const SKIP = new Set(['script', 'style', 'noscript', 'template', 'svg', 'iframe', 'object', 'canvas', 'head', 'select', 'button']);
const BOILERPLATE = new Set(['nav', 'header', 'footer', 'aside', 'form', 'menu']);
const BLOCK = new Set([
  'address', 'article', 'blockquote', 'br', 'caption', 'dd', 'details', 'dialog', 'div', 'dl', 'dt', 'fieldset', 'figcaption',
  'figure', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'ol', 'p', 'pre', 'section', 'summary',
  'table', 'tr', 'ul', 'body', 'html',
]);

export function extractPageText(html: string): PageText {
  const { document } = parseHTML(html);
  const lang = document.documentElement?.getAttribute('lang')?.trim() || undefined;
  const title = document.title?.trim() || undefined;
  let article: ReturnType<Readability<string>['parse']> = null;
  try {
    article = new Readability<string>(document as unknown as Document, { serializer: (node) => blockText(node as unknown as DomNode, SKIP) }).parse();
  } catch {
    article = null; // Readability throws on some malformed trees; the body text still serves.
  }
  const articleText = article?.content ?? '';
  if (articleText.length >= MIN_ARTICLE_CHARS) {
    return { text: articleText, title: article?.title?.trim() || title, lang: lang ?? (article?.lang || undefined), method: 'readability' };
  }
  // Readability has rewritten the tree: parse again for the whole-body fallback.
  const fresh = parseHTML(html).document;
  const body = (fresh.body ?? fresh.documentElement) as unknown as DomNode | null;
  const bodyText = body ? blockText(body, new Set([...SKIP, ...BOILERPLATE])) : '';
  return { text: bodyText.length >= articleText.length ? bodyText : articleText, title, lang, method: bodyText.length >= articleText.length ? 'body' : 'readability' };
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

/** Text of a subtree: one line per block element, spaces collapsed except inside <pre>. */
function blockText(root: DomNode, skip: Set<string>): string {
  const lines: string[] = [];
  let line = '';
  const flush = () => {
    const t = line.replace(/[ \t\f\v\u00a0]+/g, ' ').trim();
    if (t) lines.push(t);
    line = '';
  };
  const walk = (node: DomNode, inPre: boolean) => {
    if (node.nodeType === TEXT) {
      const v = node.nodeValue ?? '';
      if (inPre) {
        const parts = v.split('\n');
        line += parts[0];
        for (let i = 1; i < parts.length; i++) {
          lines.push(line.replace(/\s+$/, ''));
          line = parts[i];
        }
      } else line += v.replace(/\s+/g, ' ');
      return;
    }
    if (node.nodeType !== ELEMENT) return;
    const tag = node.nodeName.toLowerCase();
    if (skip.has(tag)) return;
    const block = BLOCK.has(tag);
    if (block) flush();
    if (tag === 'td' || tag === 'th') line += ' ';
    const pre = inPre || tag === 'pre';
    for (let i = 0; i < node.childNodes.length; i++) walk(node.childNodes[i], pre);
    if (block) flush();
  };
  walk(root, false);
  flush();
  return lines.join('\n');
}

/**
 * Decodes an HTML payload: charset from the HTTP Content-Type, else from a <meta> tag in the
 * first 4 KB, else UTF-8. Undecodable bytes become U+FFFD rather than failing the page.
 */
export function decodeHtml(bytes: Uint8Array, contentType?: string | null): { html: string; charset: string } {
  const declared = charsetOf(contentType ?? '') ?? charsetOf(sniffMeta(bytes));
  for (const label of [declared, 'utf-8']) {
    if (!label) continue;
    try {
      const decoder = new TextDecoder(label);
      return { html: decoder.decode(bytes), charset: decoder.encoding };
    } catch {
      // An unknown charset label: fall through to UTF-8.
    }
  }
  return { html: new TextDecoder().decode(bytes), charset: 'utf-8' };
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
  const t = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return t === '' || t.startsWith('text/') || t === 'application/xhtml+xml' || t === 'application/xml' || t.endsWith('+xml');
}

export function isHtmlMediaType(contentType: string | null | undefined): boolean {
  const t = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return t === 'text/html' || t === 'application/xhtml+xml';
}
