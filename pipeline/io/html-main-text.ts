/**
 * Fast main text of an HTML page (`reader.html_extractor: fast`): htmlparser2's streaming
 * tokenizer builds a light tree (tags, text and the few attributes the heuristic reads; no DOM),
 * and Readability's own content scoring runs on it in one pass, without Readability's repeated
 * DOM queries:
 *
 * 1. `script`, `style`, ... are never stored; `nav`, `header`, `footer`, `aside`, `form`,
 *    `menu`, hidden elements, ARIA navigation roles and elements whose class or id says menu,
 *    sidebar, footer, comment, share, cookie, ... are marked as boilerplate and never read.
 * 2. Every paragraph-like block (p, pre, td, section, h2-h6, a div with no block children) of
 *    25+ characters scores 1 + its commas + 1 per 100 characters (at most 3); the score goes to
 *    its parent, half to its grandparent, less further up. An element's own start is +5 for a
 *    div, -3 for a list, -5 for a heading, +-25 for a class/id that says content / says meta.
 *    Scores are scaled by (1 - link density).
 * 3. The best element is the main content; its siblings that score at least a fifth of it (or
 *    are link-free paragraphs) join it, as in Readability.
 * 4. Inside it, lists, tables and divs with few commas and many links are dropped (link lists).
 *
 * The text is written one line per block element, `<pre>` keeping its lines and their indentation
 * (class names inside code never make boilerplate: a highlighter marks comments `comment`), as
 * html-text.ts writes it. Math is kept as TeX (html-math.ts): MathML, MathJax's TeX scripts and
 * math images' alt text; display math on a line of its own. Measured against Readability in
 * bench/html.bench.ts and docs/readers.md; code and math on hand-made pages in
 * tests/readers-html-code-math.test.ts.
 */
import { Parser } from 'htmlparser2';
import { delimitTex, mathImageTex, mathText, texScriptMode, type MathNode } from './html-math.ts';

export interface FastPageText {
  text: string;
  title?: string;
  lang?: string;
  /** `main`: the scored main content; `body`: the whole body without boilerplate. */
  method: 'main' | 'body';
}

/** Elements whose content is never text. */
const SKIP = new Set(['script', 'style', 'noscript', 'template', 'svg', 'iframe', 'object', 'canvas', 'head', 'select', 'button', 'textarea']);
/** Elements whose text is code: class names inside them (a highlighter's `comment`, `sidebar`) do not make boilerplate. */
const CODE = new Set(['pre', 'code', 'kbd', 'samp']);
const BOILERPLATE_TAGS = new Set(['nav', 'header', 'footer', 'aside', 'form', 'menu', 'dialog']);
const BOILERPLATE_ROLES = new Set(['navigation', 'menu', 'menubar', 'complementary', 'banner', 'contentinfo', 'alert', 'alertdialog', 'dialog', 'search']);
/** Readability's "unlikely candidates", plus cookie/consent/share words. */
const UNLIKELY = /-ad-|ai2html|banner|breadcrumb|combx|comment|community|cover-wrap|disqus|extra|footer|gdpr|header|legends|menu|related|remark|replies|rss|shoutbox|sidebar|skyscraper|social|sponsor|supplemental|ad-break|agegate|pagination|pager|popup|yom-remote|cookie|consent|share|sharing|navbar|navigation|catlinks|printfooter|mw-jump|toc\b|skip-link/i;
const MAYBE = /and|article|body|column|content|main|mathjax|shadow/i;
const NEGATIVE = /-ad-|hidden|^hid$| hid$| hid |^hid |banner|combx|comment|com-|contact|footer|gdpr|masthead|media|meta|outbrain|promo|related|scroll|share|shoutbox|sidebar|skyscraper|sponsor|shopping|tags|widget/i;
const POSITIVE = /article|body|content|entry|hentry|h-entry|main|page|pagination|post|text|blog|story/i;
const HIDDEN_STYLE = /display\s*:\s*none|visibility\s*:\s*hidden/i;
/** Line-number gutters beside code (Pygments' `linenos`, GitHub's `blob-num`, Prism's `line-numbers-rows`): not the code's text. */
const LINE_NUMBERS = /\b(linenos|linenodiv|lineno|line-numbers-rows|blob-num|gutter)\b/i;

const BLOCK = new Set([
  'address', 'article', 'blockquote', 'br', 'caption', 'dd', 'details', 'dialog', 'div', 'dl', 'dt', 'fieldset', 'figcaption',
  'figure', 'footer', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'header', 'hr', 'li', 'main', 'ol', 'p', 'pre', 'section', 'summary',
  'table', 'tr', 'ul', 'body', 'html', 'nav', 'aside', 'form', 'menu', 'tbody', 'thead', 'tfoot',
]);
/** Blocks whose presence makes a div a container rather than a paragraph (Readability's DIV_TO_P_ELEMS). */
const DIV_BLOCKERS = new Set(['blockquote', 'dl', 'div', 'img', 'ol', 'p', 'pre', 'table', 'ul', 'section', 'article', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
const SCORED = new Set(['p', 'pre', 'td', 'section', 'h2', 'h3', 'h4', 'h5', 'h6']);
const CLEANED = new Set(['ul', 'table', 'div']);

const MIN_ARTICLE_CHARS = 200;
const MIN_ARTICLE_SHARE = 0.1;

interface El {
  tag: string;
  parent: El | null;
  kids: (El | string)[];
  /** Boilerplate by tag, role or hidden: never read. */
  drop: boolean;
  /** Boilerplate by class or id: not read unless the page has too little text without it (Readability's retry). */
  soft: boolean;
  /** Class/id weight, Readability's _getClassWeight. */
  weight: number;
  /** Characters of text (whitespace runs count once), of which inside <a>; commas: [with, without] soft boilerplate. */
  chars: [number, number];
  linkChars: [number, number];
  commas: [number, number];
  /** Has a block child (a div that has one is not a paragraph). */
  hasBlock: boolean;
  /** A table with header cells or a caption: data, never cleaned away (Readability's _isDataTable, simplified). */
  dataTable: boolean;
  score: number;
  candidate: boolean;
}

function newEl(tag: string, parent: El | null): El {
  return { tag, parent, kids: [], drop: false, soft: false, weight: 0, chars: [0, 0], linkChars: [0, 0], commas: [0, 0], hasBlock: false, dataTable: false, score: 0, candidate: false };
}

function classWeight(cls: string, id: string): number {
  let w = 0;
  if (cls) {
    if (NEGATIVE.test(cls)) w -= 25;
    if (POSITIVE.test(cls)) w += 25;
  }
  if (id) {
    if (NEGATIVE.test(id)) w -= 25;
    if (POSITIVE.test(id)) w += 25;
  }
  return w;
}

function isBoilerplate(tag: string, a: Record<string, string>): boolean {
  if (BOILERPLATE_TAGS.has(tag)) return true;
  if (a.hidden !== undefined || a['aria-hidden'] === 'true') return true;
  const role = a.role;
  if (role && BOILERPLATE_ROLES.has(role.toLowerCase())) return true;
  if (a.class && LINE_NUMBERS.test(a.class)) return true;
  return !!a.style && HIDDEN_STYLE.test(a.style);
}

function isSoftBoilerplate(tag: string, a: Record<string, string>): boolean {
  if (tag === 'body' || tag === 'html' || tag === 'main' || tag === 'article' || tag === 'a') return false;
  const sig = (a.class ?? '') + ' ' + (a.id ?? '');
  return sig.length > 1 && UNLIKELY.test(sig) && !MAYBE.test(sig);
}

/** Characters of a text run with whitespace runs counted once, and its commas. */
function measure(s: string): { chars: number; commas: number } {
  let chars = 0;
  let commas = 0;
  let space = true;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 10 || c === 9 || c === 13 || c === 12 || c === 160) {
      if (!space) chars++;
      space = true;
    } else {
      chars++;
      space = false;
      if (c === 44 || c === 0xff0c || c === 0x3001) commas++;
    }
  }
  return { chars, commas };
}

interface Parsed {
  root: El;
  body: El;
  title?: string;
  lang?: string;
}

function parse(html: string): Parsed {
  const root = newEl('#root', null);
  let cur = root;
  let body: El | null = null;
  let skipDepth = 0;
  let inTitle = false;
  let title = '';
  let lang: string | undefined;
  let linkDepth = 0;
  let codeDepth = 0;
  /** A <math> element being read: its tree, and the path to the element being filled. */
  let math: MathNode[] | null = null;
  /** The TeX of a MathJax <script type="math/tex"> being read. */
  let texScript: { display: boolean; tex: string } | null = null;
  /** A <pre> just opened: a newline right after its start tag is not content (HTML's rule). */
  let preStart = false;

  const addText = (text: string) => {
    cur.kids.push(text);
    const m = measure(text);
    cur.chars[0] += m.chars;
    cur.chars[1] += m.chars;
    cur.commas[0] += m.commas;
    cur.commas[1] += m.commas;
    if (linkDepth > 0) {
      cur.linkChars[0] += m.chars;
      cur.linkChars[1] += m.chars;
    }
  };
  /** Math as text: inline where it stands, display math as a paragraph of its own. */
  const addMath = (text: string, display: boolean) => {
    if (text === '' || skipDepth > 0 || cur.drop) return;
    if (!display) {
      addText(text);
      return;
    }
    const p = newEl('p', cur);
    cur.kids.push(p);
    cur.hasBlock = true;
    const outer = cur;
    cur = p;
    addText(text);
    cur = outer;
    for (let k = 0; k < 2; k++) {
      outer.chars[k]! += p.chars[k]!;
      outer.commas[k]! += p.commas[k]!;
    }
  };

  const parser = new Parser(
    {
      onopentag(tag, attribs) {
        if (math) {
          const el: MathNode = { tag, attrs: attribs, kids: [] };
          math[math.length - 1]!.kids.push(el);
          math.push(el);
          return;
        }
        if (tag === 'title' && !inTitle && !title) inTitle = true;
        if (skipDepth === 0 && tag === 'script') {
          const mode = texScriptMode(attribs);
          if (mode) texScript = { display: mode === 'display', tex: '' };
        }
        if (skipDepth > 0 || SKIP.has(tag)) {
          skipDepth++;
          return;
        }
        if (tag === 'math') {
          math = [{ tag, attrs: attribs, kids: [] }];
          return;
        }
        if (tag === 'img') {
          const tex = mathImageTex(attribs);
          if (tex) addMath(tex, tex.startsWith('$$'));
        }
        if (tag === 'html' && attribs.lang && !lang) lang = attribs.lang.trim() || undefined;
        const el = newEl(tag, cur);
        if (isBoilerplate(tag, attribs)) el.drop = true;
        else if (codeDepth === 0 && (attribs.class || attribs.id)) {
          el.soft = isSoftBoilerplate(tag, attribs);
          el.weight = classWeight(attribs.class ?? '', attribs.id ?? '');
        }
        if (tag === 'body' && !body) body = el;
        if (tag === 'a') linkDepth++;
        if (CODE.has(tag)) codeDepth++;
        if (tag === 'pre') preStart = true;
        else if (!CODE.has(tag)) preStart = false;
        cur.kids.push(el);
        if (DIV_BLOCKERS.has(tag)) cur.hasBlock = true;
        cur = el;
      },
      ontext(text) {
        if (math) {
          math[math.length - 1]!.kids.push(text);
          return;
        }
        if (texScript && skipDepth === 1) texScript.tex += text;
        if (inTitle) title += text;
        if (skipDepth > 0 || cur.drop) return;
        if (preStart) {
          preStart = false;
          if (text.startsWith('\r\n')) text = text.slice(2);
          else if (text.startsWith('\n')) text = text.slice(1);
          if (text === '') return;
        }
        addText(text);
      },
      onclosetag(tag) {
        if (math) {
          const done = math.pop();
          if (math.length === 0 && done) {
            math = null;
            addMath(mathText(done), done.attrs.display === 'block');
          }
          return;
        }
        if (tag === 'title') inTitle = false;
        if (skipDepth === 0 && (tag === 'th' || tag === 'caption')) {
          let t: El | null = cur;
          while (t && t.tag !== 'table') t = t.parent;
          if (t) t.dataTable = true;
        }
        if (skipDepth > 0) {
          skipDepth--;
          if (skipDepth === 0 && texScript) {
            const { display, tex } = texScript;
            texScript = null;
            addMath(delimitTex(tex, display), display);
          }
          return;
        }
        if (cur === root) return;
        const el = cur;
        if (tag === 'a' && linkDepth > 0) linkDepth--;
        if (CODE.has(el.tag) && codeDepth > 0) codeDepth--;
        preStart = false;
        cur = el.parent ?? root;
        if (!el.drop) {
          for (let m = 0; m < 2; m++) {
            if (m === 1 && el.soft) break;
            cur.chars[m]! += el.chars[m]!;
            cur.linkChars[m]! += el.tag === 'a' ? el.chars[m]! : el.linkChars[m]!;
            cur.commas[m]! += el.commas[m]!;
          }
        }
      },
    },
    { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true },
  );
  parser.write(html);
  parser.end();
  return { root, body: body ?? root, title: title.replace(/\s+/g, ' ').trim() || undefined, lang };
}

/** One of Readability's passes: the first strips soft boilerplate, weighs classes and cleans; a retry drops these one by one. */
interface Pass {
  strip: boolean;
  weigh: boolean;
  clean: boolean;
}

const PASSES: Pass[] = [
  { strip: true, weigh: true, clean: true },
  { strip: false, weigh: true, clean: true },
  { strip: false, weigh: false, clean: true },
  { strip: false, weigh: false, clean: false },
];
/** A pass whose text is shorter than this is retried with the next (Readability's charThreshold). */
const RETRY_CHARS = 500;

const m = (pass: Pass) => (pass.strip ? 1 : 0);

function linkDensity(el: El, pass: Pass): number {
  const c = el.chars[m(pass)];
  return c === 0 ? 0 : el.linkChars[m(pass)] / c;
}

function skipped(el: El, pass: Pass): boolean {
  return el.drop || (pass.strip && el.soft);
}

function initialScore(el: El, pass: Pass): number {
  const w = pass.weigh ? el.weight : 0;
  switch (el.tag) {
    case 'div':
      return 5 + w;
    case 'pre':
    case 'td':
    case 'blockquote':
      return 3 + w;
    case 'address':
    case 'ol':
    case 'ul':
    case 'dl':
    case 'dd':
    case 'dt':
    case 'li':
    case 'form':
      return -3 + w;
    case 'h1':
    case 'h2':
    case 'h3':
    case 'h4':
    case 'h5':
    case 'h6':
    case 'th':
      return -5 + w;
    default:
      return w;
  }
}

function elementKids(el: El): El[] {
  return el.kids.filter((k): k is El => typeof k !== 'string');
}

/** Readability's candidate scoring over the light tree; returns the best element, if any. */
function topCandidate(body: El, pass: Pass): El | null {
  const candidates: El[] = [];
  const stack: El[] = [body];
  const k = m(pass);
  while (stack.length) {
    const el = stack.pop()!;
    if (skipped(el, pass)) continue;
    const paragraph = SCORED.has(el.tag) || (el.tag === 'div' && !el.hasBlock);
    if (paragraph && el.chars[k] >= 25) {
      const score = 1 + el.commas[k] + Math.min(Math.floor(el.chars[k] / 100), 3);
      let anc = el.parent;
      for (let level = 0; anc && anc !== body.parent && level < 5; level++, anc = anc.parent) {
        if (!anc.candidate) {
          anc.candidate = true;
          anc.score = initialScore(anc, pass);
          candidates.push(anc);
        }
        anc.score += level === 0 ? score : level === 1 ? score / 2 : score / (level * 3);
      }
      if (!el.hasBlock && el.tag !== 'section') continue; // a paragraph's own inline children score nothing
    }
    for (let i = el.kids.length - 1; i >= 0; i--) {
      const kid = el.kids[i]!;
      if (typeof kid !== 'string') stack.push(kid);
    }
  }
  for (const c of candidates) c.score *= 1 - linkDensity(c, pass);
  candidates.sort((a, b) => b.score - a.score);
  let top = candidates[0];
  if (!top || top === body) return top ?? null;
  // Several near-best candidates under one ancestor: the ancestor is the content (Readability).
  const topScore = top.score;
  const alternatives = candidates.slice(1, 5).filter((c) => c.score / topScore >= 0.75);
  if (alternatives.length >= 3) {
    for (let p = top.parent; p && p !== body; p = p.parent) {
      let holds = 0;
      for (const a of alternatives) if (contains(p, a)) holds++;
      if (holds >= 3) {
        top = p;
        break;
      }
    }
  }
  // Walk up while the parents score well, as Readability does.
  let lastScore = top.score;
  const threshold = lastScore / 3;
  for (let p = top.parent; p && p !== body && p !== body.parent; p = p.parent) {
    if (!p.candidate) continue;
    if (p.score < threshold) break;
    if (p.score > lastScore) {
      top = p;
      break;
    }
    lastScore = p.score;
  }
  while (top.parent && top.parent !== body && top.parent.tag !== '#root' && elementKids(top.parent).length === 1) top = top.parent;
  return top;
}

function contains(ancestor: El, el: El): boolean {
  for (let p: El | null = el; p; p = p.parent) if (p === ancestor) return true;
  return false;
}

/** Readability's sibling rule: the top element plus siblings that score well or are link-free paragraphs. */
function contentOf(top: El, pass: Pass): El[] {
  const parent = top.parent;
  if (!parent || top.tag === 'body') return [top];
  const threshold = Math.max(10, top.score * 0.2);
  const out: El[] = [];
  for (const k of parent.kids) {
    if (typeof k === 'string') continue;
    if (k === top) {
      out.push(k);
      continue;
    }
    if (skipped(k, pass)) continue;
    let bonus = 0;
    if (pass.weigh && top.weight > 0 && k.weight === top.weight) bonus += top.score * 0.2;
    if (k.candidate && k.score + bonus >= threshold) out.push(k);
    else if (k.tag === 'p') {
      const ld = linkDensity(k, pass);
      const chars = k.chars[m(pass)];
      if ((chars > 80 && ld < 0.25) || (chars > 0 && ld === 0 && /\.( |$)/.test(textOf([k], pass).trim()))) out.push(k);
    }
  }
  return out;
}

/** Link lists and low-content containers inside the main content (Readability's cleanConditionally, simplified). */
function isClutter(el: El, pass: Pass): boolean {
  if (!pass.clean || !CLEANED.has(el.tag) || el.dataTable) return false;
  const weight = pass.weigh ? el.weight : 0;
  if (weight + (el.candidate ? el.score : 0) < 0) return true;
  if (el.commas[m(pass)] >= 10) return false;
  const ld = linkDensity(el, pass);
  if (weight >= 25) return ld > 0.5;
  // Lists are link lists by nature (a publication list, references): Readability keeps them too.
  if (el.tag === 'ul') return false;
  return ld > 0.2 || (el.chars[m(pass)] < 25 && ld > 0);
}

/** One line per block element, spaces collapsed except in <pre>; boilerplate (and, in the content, clutter) left out. */
function textOf(roots: El[], pass: Pass, inContent = false): string {
  const lines: string[] = [];
  let line = '';
  /** The line holds text of a <pre>: its spaces are kept, only trailing ones cut. */
  let linePre = false;
  const flush = () => {
    const t = linePre ? line.replace(/\s+$/, '') : line.replace(/[ \t\f\v\u00a0]+/g, ' ').trim();
    if (t.trim()) lines.push(t);
    line = '';
    linePre = false;
  };
  type Entry = { el: El; pre: boolean } | { text: string; pre: boolean } | null;
  const stack: Entry[] = [];
  for (let i = roots.length - 1; i >= 0; i--) stack.push({ el: roots[i]!, pre: false });
  while (stack.length) {
    const e = stack.pop();
    if (e === undefined) break;
    if (e === null) {
      flush();
      continue;
    }
    if ('text' in e) {
      if (!e.pre) {
        line += e.text.replace(/\s+/g, ' ');
        continue;
      }
      const parts = e.text.split('\n');
      line += parts[0];
      linePre = true;
      for (let i = 1; i < parts.length; i++) {
        lines.push(line.replace(/\s+$/, ''));
        line = parts[i]!;
      }
      continue;
    }
    const { el, pre } = e;
    if (skipped(el, pass) || (inContent && isClutter(el, pass))) continue;
    if (BLOCK.has(el.tag)) {
      flush();
      stack.push(null);
    }
    if (el.tag === 'td' || el.tag === 'th') line += ' ';
    const inPre = pre || el.tag === 'pre';
    for (let i = el.kids.length - 1; i >= 0; i--) {
      const k = el.kids[i]!;
      stack.push(typeof k === 'string' ? { text: k, pre: inPre } : { el: k, pre: inPre });
    }
  }
  flush();
  return lines.join('\n');
}

function resetScores(el: El): void {
  const stack = [el];
  while (stack.length) {
    const e = stack.pop()!;
    e.candidate = false;
    e.score = 0;
    for (const k of e.kids) if (typeof k !== 'string') stack.push(k);
  }
}

export function extractMainText(html: string): FastPageText {
  const { body, title, lang } = parse(html);
  // The fallback is the body without boilerplate tags, as html-text.ts's: class names alone do not remove text from it.
  const bodyText = textOf([body], PASSES[1]!);
  let article = '';
  for (let i = 0; i < PASSES.length; i++) {
    if (i > 0) resetScores(body);
    const pass = PASSES[i]!;
    const top = topCandidate(body, pass);
    const text = top ? textOf(contentOf(top, pass), pass, true) : '';
    if (text.length > article.length) article = text;
    if (article.length >= RETRY_CHARS) break;
  }
  // A first line that repeats the title is dropped, as Readability drops such a heading; the title is in meta.
  const nl = article.indexOf('\n');
  if (title && nl > 0 && article.slice(0, nl).toLowerCase() === title.toLowerCase()) article = article.slice(nl + 1);
  if (article.length >= MIN_ARTICLE_CHARS && article.length >= MIN_ARTICLE_SHARE * bodyText.length) return { text: article, title, lang, method: 'main' };
  return bodyText || !article ? { text: bodyText, title, lang, method: 'body' } : { text: article, title, lang, method: 'main' };
}
