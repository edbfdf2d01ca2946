import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeText, extractPageText, isTextMediaType } from '../pipeline/io/html-text.ts';

const paragraph = (n: number) => `<p>Paragraph ${n} of the essay explains, in plain words and at some length, why the river floods every spring and what the town does about it.</p>`;

test('an article page gives its main text, one line per paragraph, without menus, footers or scripts', () => {
  const html = `<html lang="de"><head><title>Flood notes</title></head><body>
    <nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav>
    <div class="sidebar"><a href="/ads">Buy now</a></div>
    <article>${[1, 2, 3, 4].map(paragraph).join('\n')}<script>alert("x")</script></article>
    <footer>Imprint · Privacy · Cookies</footer></body></html>`;
  const page = extractPageText(html);
  assert.equal(page.method, 'readability');
  assert.deepEqual(page.text.split('\n').map((l) => l.slice(0, 11)), ['Paragraph 1', 'Paragraph 2', 'Paragraph 3', 'Paragraph 4']);
  assert.doesNotMatch(page.text, /Home|Buy now|Imprint|alert/);
  assert.equal(page.title, 'Flood notes');
  assert.equal(page.lang, 'de');
});

test('a page Readability cannot read as an article falls back to the body text without navigation', () => {
  const html = `<html><body><header>Shop header</header><div><h2>Products</h2><ul><li>Red kettle, 20 EUR</li><li>Blue kettle, 22 EUR</li></ul>
    <table><tr><td>Size</td><td>1 l</td></tr></table></div><footer>Footer links</footer></body></html>`;
  const page = extractPageText(html);
  assert.equal(page.method, 'body');
  assert.equal(page.text, 'Products\nRed kettle, 20 EUR\nBlue kettle, 22 EUR\nSize 1 l');
});

test('<pre> keeps its line breaks and indentation; elsewhere whitespace collapses', () => {
  const code = 'def f(x):\n    return x + 1\n\nprint(f(2))';
  const html = `<html><body><div>${[1, 2, 3].map(paragraph).join('')}<p>Some    spaced\n\n  words</p><pre><code>${code}</code></pre></div></body></html>`;
  const page = extractPageText(html);
  assert.ok(page.text.includes(code), page.text);
  assert.ok(page.text.includes('\nSome spaced words\n'));
});

test('decodeText takes the charset from the header, then from <meta>, else UTF-8', () => {
  assert.equal(decodeText(Buffer.from('<p>\u00e9t\u00e9</p>', 'latin1'), 'text/html; charset=ISO-8859-1').text, '<p>été</p>');
  const sjis = Buffer.concat([Buffer.from('<meta http-equiv="Content-Type" content="text/html; charset=Shift_JIS"><p>'), Buffer.from([0x82, 0xa0]), Buffer.from('</p>')]);
  assert.deepEqual(decodeText(sjis, 'text/html'), { text: sjis.toString('latin1').replace('\u0082\u00a0', 'あ'), charset: 'shift_jis' });
  assert.equal(decodeText(Buffer.from('<p>日本</p>'), null).text, '<p>日本</p>');
  assert.equal(decodeText(Buffer.from('<p>ok</p>'), 'text/html; charset=no-such-charset').charset, 'utf-8');
  assert.equal(decodeText(Buffer.from([0x93, 0x61, 0x94]), 'text/html; charset=windows-1252').text, '\u201ca\u201d');
});

test('text media types are told from binary ones', () => {
  assert.ok(isTextMediaType('text/html; charset=utf-8'));
  assert.ok(isTextMediaType('application/xhtml+xml'));
  assert.ok(!isTextMediaType('image/jpeg'));
  assert.ok(!isTextMediaType('application/pdf'));
});

test('a page nested twenty thousand elements deep gives its text instead of overflowing the stack', () => {
  const deep = '<div>'.repeat(20_000) + 'deep text' + '</div>'.repeat(20_000);
  assert.equal(extractPageText(`<html><body>${deep}</body></html>`).text, 'deep text');
});
