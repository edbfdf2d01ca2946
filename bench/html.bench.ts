/**
 * HTML main-text extraction: the fast extractor (pipeline/io/html-main-text.ts, htmlparser2 +
 * Readability's scoring on a light tree) against Readability + linkedom, on the real HTML pages of
 * devdata's crawl WARCs (../shared/devdata/warc), one core (one thread, in this process).
 *
 *   node --import tsx bench/html.bench.ts
 *
 * Figures:
 * - pages/s: best of RUNS passes over all pages, extraction only (the WARC reading around it is
 *   bench/readers.bench.ts's and bench/pipeline.bench.ts's);
 * - recall: the share of Readability's output tokens that the fast output has too, counted as a
 *   multiset (a token Readability gives 3 times and the fast extractor once counts 1 of 3), summed
 *   over all pages; tokens are lower-cased runs of letters and digits, each Han/kana character one token;
 * - precision: the same share the other way round (fast tokens that Readability has too): what the
 *   fast extractor keeps beyond Readability, the boilerplate it did not remove, is 1 - precision;
 * - length ratio: characters of fast output / characters of Readability output, all pages.
 *
 * BENCH_QUICK=1 (bench/quick.ts): 20 generated pages (article + nav, footer, script, sidebar).
 */
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { WARCParser } from 'warcio';
import { decodeText, extractPageText, isHtmlMediaType } from '../pipeline/io/html-text.ts';
import { devdataFile } from './devdata.ts';
import { QUICK, sized } from './quick.ts';

const RUNS = sized(5, 1);
const WARCS = ['warc/allenai__dolma__sample-0000.warc.gz', 'warc/commoncrawl__whirlwind-python__whirlwind.warc.gz'];

interface Page {
  url: string;
  html: string;
}

async function warcPages(file: string): Promise<Page[]> {
  const pages: Page[] = [];
  for await (const r of new WARCParser(createReadStream(file).pipe(createGunzip()))) {
    const type = r.httpHeaders?.headers.get('content-type') ?? '';
    if (r.warcType !== 'response' || !isHtmlMediaType(type)) {
      await r.skipFully();
      continue;
    }
    pages.push({ url: r.warcTargetURI ?? '', html: decodeText(await r.readFully(true), type).text });
  }
  return pages;
}

function generatedPages(n: number): Page[] {
  return Array.from({ length: n }, (_, i) => ({
    url: `https://example.org/${i}`,
    html: `<html><head><title>Page ${i}</title><style>p{color:red}</style></head><body>
      <nav><a href="/">Home</a> <a href="/a">About</a></nav><div class="sidebar"><a href="/x">Buy</a></div>
      <article>${Array.from({ length: 4 + (i % 5) }, (_, j) => `<p>Paragraph ${j} of page ${i}, which says, in plain words, what the town council decided about the bridge and why.</p>`).join('')}</article>
      <script>track(${i})</script><footer>Imprint, privacy, cookies</footer></body></html>`,
  }));
}

const tokens = (s: string) => s.toLowerCase().match(/[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}]|[\p{L}\p{N}]+/gu) ?? [];

function counts(list: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of list) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

/** Tokens of `a` also in `b`, as multisets. */
function common(a: Map<string, number>, b: Map<string, number>): number {
  let c = 0;
  for (const [t, n] of a) c += Math.min(n, b.get(t) ?? 0);
  return c;
}

const total = (m: Map<string, number>) => [...m.values()].reduce((x, y) => x + y, 0);

function pagesPerSecond(pages: Page[], extractor: 'fast' | 'readability'): number {
  let best = Infinity;
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (const p of pages) extractPageText(p.html, extractor);
    best = Math.min(best, performance.now() - t0);
  }
  return (pages.length / best) * 1000;
}

async function main(): Promise<void> {
  let pages: Page[] = [];
  let origin = 'generated pages (BENCH_QUICK)';
  if (!QUICK) {
    for (const rel of WARCS) {
      const f = devdataFile(rel);
      if (f) pages.push(...(await warcPages(f)));
    }
    origin = `the ${pages.length} HTML pages of devdata's crawl WARCs`;
  }
  if (pages.length === 0) {
    pages = generatedPages(20);
    if (!QUICK) origin = 'generated pages (../shared/devdata is not there)';
  }
  const mb = pages.reduce((a, p) => a + Buffer.byteLength(p.html), 0) / 1e6;
  let rTokens = 0;
  let fTokens = 0;
  let both = 0;
  let rChars = 0;
  let fChars = 0;
  let below90 = 0;
  for (const p of pages) {
    const r = extractPageText(p.html, 'readability').text;
    const f = extractPageText(p.html, 'fast').text;
    const rc = counts(tokens(r));
    const fc = counts(tokens(f));
    const c = common(rc, fc);
    rTokens += total(rc);
    fTokens += total(fc);
    both += c;
    rChars += r.length;
    fChars += f.length;
    if (c < 0.9 * total(rc)) below90++;
  }
  const fast = pagesPerSecond(pages, 'fast');
  const readability = pagesPerSecond(pages, 'readability');
  console.log(`Input: ${origin}, ${mb.toFixed(2)} MB of HTML; best of ${RUNS} passes, one core.\n`);
  console.log('| extractor | pages/s | HTML MB/s | vs Readability |');
  console.log('|---|---:|---:|---:|');
  console.log(`| Readability + linkedom | ${readability.toFixed(0)} | ${((readability * mb) / pages.length).toFixed(2)} | 1.00x |`);
  console.log(`| fast (htmlparser2 + scoring) | ${fast.toFixed(0)} | ${((fast * mb) / pages.length).toFixed(2)} | ${(fast / readability).toFixed(1)}x |`);
  console.log('\n| quality of fast vs Readability | value |');
  console.log('|---|---:|');
  console.log(`| token recall (multiset, all pages) | ${((100 * both) / Math.max(rTokens, 1)).toFixed(2)}% of ${rTokens} |`);
  console.log(`| token precision (multiset) | ${((100 * both) / Math.max(fTokens, 1)).toFixed(2)}% of ${fTokens} |`);
  console.log(`| output length ratio (characters) | ${(fChars / Math.max(rChars, 1)).toFixed(3)} |`);
  console.log(`| pages with recall under 90% | ${below90} of ${pages.length} |`);
}

await main();
