/**
 * The HTML extractor keeps code and math (pipeline/io/html-main-text.ts, html-math.ts), measured
 * on 21 hand-made pages in the markup of real kinds of sites (tests/fixtures/html-code-math/,
 * SOURCE.md says which), each assembled by page.ts into a full page in the chrome they share:
 * every line of the hand-made expected text must come out, exactly and in order (code with its
 * indentation and tabs, math as TeX); lines it should not have (boilerplate the main-content
 * heuristic keeps) are counted and bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractMainText } from '../pipeline/io/html-main-text.ts';
import { extractPageText } from '../pipeline/io/html-text.ts';
import { delimitTex, mathImageTex, mathText, texScriptMode } from '../pipeline/io/html-math.ts';
import { assemblePage, expectedLines, pageNames } from './fixtures/html-code-math/page.ts';

const PAGES = pageNames();

/** How many of `expected` appear in `out` in order, and the lines of `out` that are none of them. */
function compare(out: string[], expected: string[]): { kept: number; extra: string[] } {
  let i = 0;
  const extra: string[] = [];
  for (const line of out) {
    if (i < expected.length && line === expected[i]) i++;
    else extra.push(line);
  }
  return { kept: i, extra };
}

test('code and math pages: every expected line kept exactly and in order, on each of the 21 pages', (t) => {
  assert.ok(PAGES.length >= 20);
  let lines = 0;
  let extras = 0;
  for (const page of PAGES) {
    const expected = expectedLines(page);
    const html = assemblePage(page);
    assert.ok(/Getting started/.test(html) && /Privacy policy/.test(html), `${page}: the assembled page lacks the site chrome`);
    const out = extractMainText(html).text.split('\n');
    const { kept, extra } = compare(out, expected);
    assert.equal(kept, expected.length, `${page}: first line not kept: ${JSON.stringify(expected[kept])}\n--- got ---\n${out.join('\n')}`);
    assert.ok(extra.length <= 2, `${page}: extra lines ${JSON.stringify(extra)}`);
    assert.ok(!extra.some((l) => /Privacy policy|Getting started|Another post/.test(l)), `${page}: site boilerplate ${JSON.stringify(extra)}`);
    lines += expected.length;
    extras += extra.length;
  }
  t.diagnostic(`${PAGES.length} pages, ${lines} expected lines all kept, ${extras} extra lines`);
  assert.ok(extras <= 6, `${extras} extra lines`);
});

test('code: indentation, tabs and blank lines inside <pre> kept, the last line too; a newline right after <pre> is not content', () => {
  const html = (pre: string) => `<html><body><article><p>${'Some prose around the code, long enough to be the main content of the page. '.repeat(4)}</p><pre>${pre}</pre></article></body></html>`;
  const text = extractMainText(html('\nif x:\n\n    y()\n\tz()\n    last()')).text;
  assert.ok(text.endsWith('\nif x:\n\n    y()\n\tz()\n    last()'), JSON.stringify(text));
  const highlighted = extractMainText(html('<code><span class="hljs-comment"># a comment</span>\n<span class="sidebar-x">x</span> = 1</code>')).text;
  assert.ok(highlighted.endsWith('\n# a comment\nx = 1'), JSON.stringify(highlighted));
});

test('math: TeX annotation first, then alttext, then a linearisation; scripts and images of TeX; delimiters', () => {
  const m = (tag: string, attrs: Record<string, string>, kids: Parameters<typeof mathText>[0]['kids']) => ({ tag, attrs, kids });
  assert.equal(mathText(m('math', { alttext: 'a+b' }, [m('semantics', {}, [m('mi', {}, ['x']), m('annotation', { encoding: 'application/x-tex' }, ['x^2'])])])), '$x^2$');
  assert.equal(mathText(m('math', { alttext: 'a+b', display: 'block' }, [m('mi', {}, ['a'])])), '$$a+b$$');
  assert.equal(mathText(m('math', {}, [m('msubsup', {}, [m('mo', {}, ['∑']), m('mi', {}, ['i']), m('mi', {}, ['n'])]), m('mroot', {}, [m('mi', {}, ['x']), m('mn', {}, ['3'])])])), '$∑_i^n \\sqrt[3]{x}$');
  assert.deepEqual([texScriptMode({ type: 'math/tex' }), texScriptMode({ type: 'math/tex; mode=display' }), texScriptMode({ type: 'text/javascript' })], ['inline', 'display', undefined]);
  assert.equal(mathImageTex({ class: 'mwe-math-fallback-image-inline', alt: '{\\displaystyle x}' }), '${\\displaystyle x}$');
  assert.equal(mathImageTex({ src: '/photos/cat.jpg', alt: 'a cat' }), undefined);
  assert.equal(delimitTex('$x$', true), '$x$');
  assert.equal(delimitTex('  ', false), '');
});

test('the Readability extractor keeps the same math and code lines (it drops some headings, which it takes for the title)', (t) => {
  let lines = 0;
  let found = 0;
  for (const page of PAGES) {
    const expected = expectedLines(page);
    const out = extractPageText(assemblePage(page), 'readability').text.split('\n');
    const left = new Map<string, number>();
    for (const l of out) left.set(l, (left.get(l) ?? 0) + 1);
    for (const line of expected) {
      const n = left.get(line) ?? 0;
      if (n > 0) {
        found++;
        left.set(line, n - 1);
      } else assert.ok(!line.includes('$') && !/^\s/.test(line), `${page}: math or indented code lost: ${JSON.stringify(line)}`);
    }
    lines += expected.length;
  }
  t.diagnostic(`readability: ${found} of ${lines} expected lines found`);
  assert.ok(found >= 135, `${found} of ${lines}`);
});

