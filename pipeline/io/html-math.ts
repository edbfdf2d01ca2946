/**
 * Math of an HTML page as text, the way the Llama 3 paper says its extractor keeps it (§3.1.1: math
 * and code kept, as TeX where pages carry it): MathML (`<math>`) becomes its TeX annotation
 * (`<annotation encoding="application/x-tex">`, which MediaWiki, KaTeX and LaTeXML write), else its
 * `alttext`, else a TeX-like linearization of its presentation markup; MathJax's
 * `<script type="math/tex">` and a math image's `alt` (MediaWiki's fallback images, LaTeX
 * renderers) are TeX already. Inline math is written `$…$`, display math `$$…$$`.
 */

export interface MathNode {
  tag: string;
  attrs: Record<string, string>;
  kids: (MathNode | string)[];
}

const TEX_ENCODINGS = /^(application\/x-tex|tex|text\/x-tex|application\/x-latex|latex)$/i;

/** `$tex$`, or `$$tex$$` for display math; TeX already inside `$` is left alone. */
export function delimitTex(tex: string, display: boolean): string {
  const t = tex.trim();
  if (t === '') return '';
  if (/^\$.*\$$/s.test(t) || /^\\\(.*\\\)$/s.test(t) || /^\\\[.*\\\]$/s.test(t)) return t;
  return display ? `$$${t}$$` : `$${t}$`;
}

function textContent(n: MathNode | string): string {
  return typeof n === 'string' ? n : n.kids.map(textContent).join('');
}

function findAnnotation(n: MathNode): string | undefined {
  if (n.tag === 'annotation' && TEX_ENCODINGS.test(n.attrs.encoding ?? '')) return textContent(n);
  for (const k of n.kids) {
    if (typeof k === 'string') continue;
    const found = findAnnotation(k);
    if (found !== undefined) return found;
  }
  return undefined;
}

const group = (s: string) => (s.length <= 1 ? s : `{${s}}`);

/** Presentation MathML as TeX-like text: scripts, fractions, roots, tables; token elements as they are. */
function linearize(n: MathNode | string): string {
  if (typeof n === 'string') return n.replace(/\s+/g, ' ').trim();
  const kids = n.kids.filter((k) => typeof k !== 'string' || k.trim() !== '');
  const part = (i: number) => (kids[i] === undefined ? '' : linearize(kids[i]));
  switch (n.tag) {
    case 'annotation':
    case 'annotation-xml':
    case 'mphantom':
    case 'none':
    case 'mprescripts':
      return '';
    case 'semantics':
      return part(0);
    case 'msup':
      return `${part(0)}^${group(part(1))}`;
    case 'msub':
      return `${part(0)}_${group(part(1))}`;
    case 'msubsup':
      return `${part(0)}_${group(part(1))}^${group(part(2))}`;
    case 'munder':
      return `${part(0)}_${group(part(1))}`;
    case 'mover':
      return `${part(0)}^${group(part(1))}`;
    case 'munderover':
      return `${part(0)}_${group(part(1))}^${group(part(2))}`;
    case 'mfrac':
      return `\\frac{${part(0)}}{${part(1)}}`;
    case 'msqrt':
      return `\\sqrt{${kids.map(linearize).join(' ')}}`;
    case 'mroot':
      return `\\sqrt[${part(1)}]{${part(0)}}`;
    case 'mfenced': {
      const open = n.attrs.open ?? '(';
      const close = n.attrs.close ?? ')';
      return `${open}${kids.map(linearize).join(n.attrs.separators ?? ',')}${close}`;
    }
    case 'mtable':
      return kids.map(linearize).join(' \\\\ ');
    case 'mtr':
    case 'mlabeledtr':
      return kids.map(linearize).join(' & ');
    case 'mi':
    case 'mn':
    case 'mo':
    case 'mtext':
    case 'ms':
      return textContent(n).replace(/\s+/g, ' ').trim();
    default:
      return kids
        .map(linearize)
        .filter((s) => s !== '')
        .join(' ');
  }
}

/** A `<math>` element as delimited TeX. */
export function mathText(math: MathNode): string {
  const display = math.attrs.display === 'block' || math.attrs.mode === 'display';
  const tex = findAnnotation(math) ?? math.attrs.alttext ?? linearize(math);
  return delimitTex(tex.replace(/\s+/g, ' '), display);
}

/** `<script type="math/tex">` (MathJax 2): its mode, or undefined for any other script. */
export function texScriptMode(attrs: Record<string, string>): 'inline' | 'display' | undefined {
  const type = (attrs.type ?? '').toLowerCase();
  if (!type.startsWith('math/tex')) return undefined;
  return /mode\s*=\s*display/.test(type) ? 'display' : 'inline';
}

const MATH_IMAGE = /\b(tex|latex|math|equation|formula)/i;

/** The TeX in a math image's alt text (MediaWiki's fallback images, LaTeX renderers), if it is one. */
export function mathImageTex(attrs: Record<string, string>): string | undefined {
  const alt = attrs.alt?.trim();
  if (!alt) return undefined;
  if (!MATH_IMAGE.test(attrs.class ?? '') && !MATH_IMAGE.test(attrs.src ?? '')) return undefined;
  return delimitTex(alt, /display|block/i.test(attrs.class ?? ''));
}
