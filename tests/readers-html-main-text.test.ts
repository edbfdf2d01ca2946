import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { extractMainText } from '../pipeline/io/html-main-text.ts';
import { extractPageText } from '../pipeline/io/html-text.ts';
import { readDocs } from '../pipeline/io/read.ts';
import { DEFAULT_HTML_EXTRACTOR } from '../pipeline/io/read-item.ts';

const WARC = join(import.meta.dirname, '..', 'examples', 'corpus', 'debian-history.warc.gz');

async function pages(extractor: 'fast' | 'readability'): Promise<Map<string, { text: string; meta: Record<string, unknown> }>> {
  const out = new Map<string, { text: string; meta: Record<string, unknown> }>();
  for await (const it of readDocs(WARC, { htmlExtractor: extractor })) if (it.kind === 'doc') out.set(String(it.doc.meta.url), it.doc);
  return out;
}

const url = (page: string) => `https://www.debian.org/doc/manuals/project-history/${page}`;

test('the default extractor is the fast one, and the WARC reader uses it', async () => {
  assert.equal(DEFAULT_HTML_EXTRACTOR, 'fast');
  const doc = (await pages('fast')).get(url('leaders.en.html'));
  assert.equal(doc?.meta.extraction, 'main');
});

test('on real pages of the sample corpus, the fast extractor keeps the main paragraphs and drops the DocBook navigation', async () => {
  const fast = await pages('fast');
  const leaders = fast.get(url('leaders.en.html'))!.text;
  assert.match(leaders, /^Debian has had several leaders since its beginnings in 1993\.\nIan Murdock founded Debian in August 1993 and led it until March 1996\.\n/);
  assert.match(leaders, /Jonathan Carter was elected in April 2020 and is our current leader\.$/);
  // The navigation footer names the previous and next chapters.
  assert.doesNotMatch(leaders, /Chapter 1\. Introduction -- What is the Debian Project\?|Chapter 3\. Debian Releases/);
  const releases = fast.get(url('releases.de.html'))!.text;
  assert.doesNotMatch(releases, /Kapitel 2\. Führung|Kapitel 4\./);
  // Where Readability keeps a page's text, the fast extractor keeps the same lines on these pages.
  const readability = await pages('readability');
  for (const page of ['leaders.en.html', 'intro.fr.html', 'manifesto.ru.html', 'releases.ja.html']) {
    assert.equal(fast.get(url(page))!.text, readability.get(url(page))!.text, page);
  }
});

test('a generated page: navigation, header, footer, sidebar, cookie banner, script and style are removed, paragraphs kept one per line', () => {
  const para = (n: number) => `<p>Paragraph ${n} explains, in plain words and at some length, why the river floods every spring and what the town does about it.</p>`;
  const html = `<!doctype html><html lang="en"><head><title>River notes</title><style>p { color: red }</style><script>var tracking = "SCRIPT-TEXT";</script></head><body>
    <header><a href="/">Logo</a> Welcome to the site</header>
    <nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav>
    <div id="cookie-banner">We use cookies. <button>Accept</button></div>
    <div class="content"><h1>River notes</h1>${[1, 2, 3, 4, 5].map(para).join('\n')}<script>document.write("INLINE-SCRIPT")</script></div>
    <aside class="sidebar"><a href="/ads">Buy now</a></aside>
    <div class="share-buttons"><a href="/tw">Tweet</a><a href="/fb">Share</a></div>
    <footer>Imprint · Privacy</footer></body></html>`;
  const page = extractMainText(html);
  assert.equal(page.method, 'main');
  assert.equal(page.title, 'River notes');
  assert.equal(page.lang, 'en');
  const lines = page.text.split('\n');
  // The <h1> repeats the title (which is in meta): dropped, as Readability drops it.
  assert.deepEqual(lines.map((l) => l.slice(0, 11)), ['Paragraph 1', 'Paragraph 2', 'Paragraph 3', 'Paragraph 4', 'Paragraph 5']);
  assert.doesNotMatch(page.text, /Logo|Welcome|Home|News|cookies|Accept|Buy now|Tweet|Share|Imprint|SCRIPT-TEXT|INLINE-SCRIPT|color/);
});

test('html_extractor: readability still gives Readability\'s text', () => {
  const html = `<html><body><nav><a href="/">Home</a></nav><article>${'<p>One paragraph of article text, long enough to be an article, about rivers and floods.</p>'.repeat(5)}</article></body></html>`;
  assert.equal(extractPageText(html, 'readability').method, 'readability');
  assert.equal(extractPageText(html, 'fast').method, 'main');
  assert.equal(extractPageText(html, 'fast').text, extractPageText(html, 'readability').text);
});

test('the fast extractor falls back to the body without navigation on a page with no article, and survives deep nesting', () => {
  const html = `<html><body><header>Shop header</header><div><h2>Products</h2><ul><li>Red kettle, 20 EUR</li><li>Blue kettle, 22 EUR</li></ul>
    <table><tr><td>Size</td><td>1 l</td></tr></table></div><footer>Footer links</footer></body></html>`;
  assert.deepEqual(extractMainText(html), { text: 'Products\nRed kettle, 20 EUR\nBlue kettle, 22 EUR\nSize 1 l', title: undefined, lang: undefined, method: 'body' });
  const deep = '<div>'.repeat(20_000) + 'deep text' + '</div>'.repeat(20_000);
  assert.equal(extractMainText(`<html><body>${deep}</body></html>`).text, 'deep text');
  const code = 'def f(x):\n    return x + 1\n\nprint(f(2))';
  assert.ok(extractMainText(`<html><body><pre><code>${code}</code></pre></body></html>`).text.includes(code));
});
