/**
 * Tokenizer and shard-writing throughput, each against its baseline in the same run:
 * 1. Llama 3 tokens/s on one core: llama3-tokenizer-js (baseline, pure JS) vs our tokenizer:
 *    tiktoken's WASM core with Meta's ranks (`pretokenCache: false`), and the default (split
 *    by a JavaScript scanner, pre-token cache, new pieces byte-pair merged in JavaScript).
 * 2. Writing the same document rows to Parquet: our writer (apache-arrow + parquet-wasm, zstd) vs
 *    parquetjs-lite (gzip, its strongest codec; it has no zstd), Mtokens/s and file sizes.
 * Text: ../shared/devdata (web, code, multilingual) when present, generated text otherwise.
 * Run: node --import tsx bench/tokenizer.bench.ts (BENCH_QUICK=1: see bench/quick.ts)
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import llama3TokenizerJs from 'llama3-tokenizer-js';
import { Llama3Tokenizer } from '../pipeline/tokenizer/llama3-tokenizer.ts';
import { ShardSink } from '../mixes/shards/shard-sink.ts';
import type { DocumentRow } from '../mixes/shards/token-rows.ts';
import { devdataFile } from './devdata.ts';
import { sized } from './quick.ts';

const SOURCES = [
  { file: 'web/dolma_cc_main_2019_30_seg00140.jsonl', kind: 'web', max: 359 },
  { file: 'code/source_files_multilang.jsonl.gz', kind: 'code', max: 712 },
  { file: 'multilingual/debian_fortunes_multilingual.jsonl.gz', kind: 'multilingual', max: 8000 },
];

interface Text {
  id: string;
  kind: string;
  text: string;
}

async function readJsonl(path: string, max: number): Promise<{ id: string; text: string }[]> {
  const raw = createReadStream(path);
  const lines = createInterface({ input: path.endsWith('.gz') ? raw.pipe(createGunzip()) : raw, crlfDelay: Infinity });
  const out: { id: string; text: string }[] = [];
  for await (const line of lines) {
    if (line.trim() === '') continue;
    const o = JSON.parse(line) as { id: unknown; text: string };
    out.push({ id: String(o.id), text: o.text });
    if (out.length >= max) break;
  }
  return out;
}

function generated(): Text[] {
  let s = 7;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  const words = ['the', 'of', 'data', 'model', 'training', 'Llama', 'token', 'ünïcode', '東京', 'данные', '1234', '  ', '\n', 'function', '{', '}', '=>', 'return'];
  return Array.from({ length: sized(3000, 60) }, (_, i) => ({
    id: `gen-${i}`,
    kind: 'generated',
    text: Array.from({ length: 50 + Math.floor(rnd() * 400) }, () => words[Math.floor(rnd() * words.length)]).join(' '),
  }));
}

async function corpus(): Promise<{ texts: Text[]; origin: string }> {
  const texts: Text[] = [];
  for (const s of SOURCES) {
    const path = devdataFile(s.file);
    if (!path) continue;
    for (const d of await readJsonl(path, s.max)) texts.push({ id: d.id, kind: s.kind, text: d.text });
  }
  return texts.length ? { texts, origin: `../shared/devdata: ${SOURCES.map((s) => s.file).join(', ')}` } : { texts: generated(), origin: 'generated text (../shared/devdata not found, or quick mode)' };
}

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);
sampler.unref();

/** CPU seconds of this thread (user + system): steadier than wall time on a shared machine. */
function cpuSeconds(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

const fmt = (n: number, d = 2) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

const { texts, origin } = await corpus();
const chars = texts.reduce((n, t) => n + t.text.length, 0);
const NEVER = /(?!)/g;
const reference = (t: string) => llama3TokenizerJs.encode(t, { bos: false, eos: false, specialTokenRegex: NEVER } as Parameters<typeof llama3TokenizerJs.encode>[1]);

// Warm up every contender's JIT on other text, then one timed pass each, on fresh instances.
const warm = generated().slice(0, 300);
const plain = new Llama3Tokenizer({ pretokenCache: false });
const warmCached = new Llama3Tokenizer();
for (const w of warm) {
  reference(w.text);
  plain.encode(w.text);
  warmCached.encode(w.text);
}
warmCached.free();
const cached = new Llama3Tokenizer(); // empty cache: it fills during the timed pass

// Interleaved: each slice of the corpus goes through all three in turn, so that load from other
// processes falls on all of them alike; CPU time, not wall time.
const contenders = [
  { encode: (t: string) => reference(t).length, seconds: 0, value: 0 },
  { encode: (t: string) => plain.encode(t).length, seconds: 0, value: 0 },
  { encode: (t: string) => cached.encode(t).length, seconds: 0, value: 0 },
];
const SLICES = sized(30, 3);
for (let s = 0; s < SLICES; s++) {
  const slice = texts.slice(Math.floor((s * texts.length) / SLICES), Math.floor(((s + 1) * texts.length) / SLICES));
  for (let k = 0; k < contenders.length; k++) {
    const c = contenders[(s + k) % contenders.length]!;
    const t = cpuSeconds();
    for (const x of slice) c.value += c.encode(x.text);
    c.seconds += cpuSeconds() - t;
  }
}
const [base, noCache, withCache] = contenders as [typeof contenders[0], typeof contenders[0], typeof contenders[0]];
let differ = 0;
let differFeffNel = 0;
for (const t of texts) {
  const a = cached.encode(t.text);
  const b = reference(t.text);
  if (a.length !== b.length || a.some((x, i) => x !== b[i])) {
    if (/[\uFEFF\u0085]/.test(t.text)) differFeffNel++;
    else differ++;
  }
}

const tokens = noCache.value;
console.log(`Tokenizer, one core; corpus: ${origin}; ${texts.length} documents, ${fmt(chars / 1e6)} M characters, ${fmt(tokens / 1e6, 3)} M tokens.\n`);
console.log('| tokenizer | CPU seconds | tokens/s | vs llama3-tokenizer-js |');
console.log('|---|---:|---:|---:|');
for (const [name, r] of [
  ['llama3-tokenizer-js 1.2.0 (baseline)', base],
  ['tiktoken WASM + Meta ranks', noCache],
  ['JavaScript split + pre-token cache + JavaScript BPE (default)', withCache],
] as const) {
  console.log(`| ${name} | ${fmt(r.seconds)} | ${fmt(r.value / r.seconds, 0)} | ${fmt(base.seconds / r.seconds)}x |`);
}
console.log(`\nIds differ from llama3-tokenizer-js on ${differ} documents without U+FEFF/U+0085 and on ${differFeffNel} with them (there the reference's JavaScript \\s is wrong; see tests/tokenizer-llama3.test.ts).\n`);
if (noCache.value !== withCache.value) console.log('WARNING: the pre-token cache changed the token count\n');
const setup = cpuSeconds();
new Llama3Tokenizer().free();
console.log(`Building a tokenizer (vocabulary already loaded): ${fmt(cpuSeconds() - setup, 3)} CPU seconds.\n`);

// ---- Shard writing: the same rows through both writers --------------------------------------
const TARGET_TOKENS = sized(4_000_000, 20_000);
const rows: DocumentRow[] = [];
let rowTokens = 0;
for (let round = 0; rowTokens < TARGET_TOKENS; round++) {
  for (const t of texts) {
    const ids = cached.encodeDocument(t.text);
    rows.push({ id: `${t.id}#${round}`, tokens: ids, source: t.kind, language: null, category: t.kind === 'code' ? 'code' : 'general', quality: null, quality_band: null });
    rowTokens += ids.length;
    if (rowTokens >= TARGET_TOKENS) break;
  }
}

const dir = await mkdtemp(join(tmpdir(), 'refinery-bench-'));
const oursW = await (async () => {
  const t = cpuSeconds();
  const sink = new ShardSink({ prefix: join(dir, 'ours'), shardSize: 1e12, rowGroupBytes: 32 * 1024 * 1024, seqLen: null, metadata: {}, bosId: 128_000 });
  for (const r of rows) await sink.add(r);
  const files = await sink.finish();
  return { seconds: cpuSeconds() - t, bytes: files.reduce((n, f) => n + f.bytes, 0) };
})();

interface ParquetJsWriter {
  appendRow(row: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}
interface ParquetJs {
  ParquetSchema: new (fields: Record<string, unknown>) => unknown;
  ParquetWriter: { openFile(schema: unknown, path: string, opts?: Record<string, unknown>): Promise<ParquetJsWriter> };
}
const parquetjs = createRequire(import.meta.url)('parquetjs-lite') as ParquetJs;
const theirsW = await (async () => {
  const schema = new parquetjs.ParquetSchema({
    id: { type: 'UTF8', compression: 'GZIP' },
    input_ids: { type: 'INT32', repeated: true, compression: 'GZIP' },
    num_tokens: { type: 'INT32', compression: 'GZIP' },
    source: { type: 'UTF8', optional: true, compression: 'GZIP' },
    category: { type: 'UTF8', optional: true, compression: 'GZIP' },
  });
  const path = join(dir, 'parquetjs.parquet');
  const t = cpuSeconds();
  const writer = await parquetjs.ParquetWriter.openFile(schema, path, { rowGroupSize: 4096 });
  for (const r of rows) await writer.appendRow({ id: r.id, input_ids: Array.from(r.tokens), num_tokens: r.tokens.length, source: r.source, category: r.category });
  await writer.close();
  return { seconds: cpuSeconds() - t, bytes: (await stat(path)).size };
})();
await rm(dir, { recursive: true, force: true });

console.log(`Shard writing, one core: ${rows.length.toLocaleString('en-US')} document rows, ${fmt(rowTokens / 1e6, 3)} M tokens (the documents above, repeated).\n`);
console.log('| writer | CPU seconds | Mtokens/s | file MB | bytes/token | vs parquetjs-lite (speed) | size vs parquetjs-lite |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [name, r] of [
  ['parquetjs-lite 0.8.7, gzip (baseline)', theirsW],
  ['apache-arrow + parquet-wasm, zstd (ours)', oursW],
] as const) {
  console.log(`| ${name} | ${fmt(r.seconds)} | ${fmt(rowTokens / r.seconds / 1e6)} | ${fmt(r.bytes / 1e6)} | ${fmt(r.bytes / rowTokens)} | ${fmt(theirsW.seconds / r.seconds)}x | ${fmt(r.bytes / theirsW.bytes)} |`);
}
console.log(`\nPeak RSS of this benchmark: ${fmt(peakRss / 2 ** 20, 0)} MiB.`);
