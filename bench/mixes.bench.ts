/**
 * Mix benchmarks. Run: node --import tsx bench/mixes.bench.ts
 * 1. The census token estimate (UTF-8 bytes / 4) against the Llama 3 tokenizer (baseline: exact count).
 * 2. The sampler's hash against SHA-256 of the same input (baseline: node:crypto).
 * 3. Planner solve time as buckets grow (baseline: 100 buckets).
 * Uses ../shared/devdata when present, generated text otherwise. BENCH_QUICK=1: see bench/quick.ts.
 */
import { createHash } from 'node:crypto';
import { Llama3Tokenizer } from '../pipeline/tokenizer/llama3-tokenizer.ts';
import { readDocs } from '../pipeline/io/read.ts';
import { BYTES_PER_TOKEN_ESTIMATE } from '../mixes/census.ts';
import { unitHash } from '../pipeline/hash.ts';
import { CensusBuilder } from '../mixes/census.ts';
import { planMix } from '../mixes/planner.ts';
import { parseMixConfig } from '../mixes/mix-config.ts';
import { devdataFile } from './devdata.ts';
import { sized } from './quick.ts';

const SETS: [string, string][] = [
  ['web (Dolma CC)', 'web/dolma_cc_main_2019_30_seg00140.jsonl'],
  ['quality (DCLM human)', 'quality/dclm_human_quality_dev.jsonl'],
  ['code (20 languages)', 'code/source_files_multilang.jsonl.gz'],
  ['multilingual (Debian fortunes)', 'multilingual/debian_fortunes_multilingual.jsonl.gz'],
];

async function texts(file: string, limit: number): Promise<string[]> {
  const out: string[] = [];
  for await (const item of readDocs(file)) {
    if (item.kind === 'doc') out.push(item.doc.text);
    if (out.length >= limit) break;
  }
  return out;
}

function generated(): string[] {
  const words = ['the', 'data', 'model', 'token', 'mixture', 'corpus', 'quality', 'filter', 'language', 'train'];
  return Array.from({ length: sized(500, 20) }, (_, i) => Array.from({ length: 200 }, (_, j) => words[(i * 7 + j * 13) % words.length]).join(' '));
}

const tok = new Llama3Tokenizer();
console.log('## Token estimate: UTF-8 bytes / %d vs the Llama 3 tokenizer\n', BYTES_PER_TOKEN_ESTIMATE);
console.log('| corpus | docs | bytes | tokens (Llama 3) | bytes per token | estimate / exact |');
console.log('|---|---:|---:|---:|---:|---:|');
const sets: [string, string[]][] = [];
for (const [name, file] of SETS) {
  const path = devdataFile(file);
  if (path) sets.push([name, await texts(path, 3000)]);
}
if (sets.length === 0) sets.push(['generated English words', generated()]);
for (const [name, docs] of sets) {
  let bytes = 0;
  let tokens = 0;
  let estimate = 0;
  for (const t of docs) {
    const b = Buffer.byteLength(t, 'utf8');
    bytes += b;
    estimate += Math.ceil(b / BYTES_PER_TOKEN_ESTIMATE);
    tokens += tok.encode(t).length;
  }
  console.log(`| ${name} | ${docs.length} | ${bytes} | ${tokens} | ${(bytes / tokens).toFixed(2)} | ${(estimate / tokens).toFixed(3)} |`);
}
tok.free();

const N = sized(1_000_000, 10_000);
console.log(`\n## Sampler hash vs SHA-256 (${N.toLocaleString('en')} ids)\n`);
let t0 = performance.now();
let acc = 0;
for (let i = 0; i < N; i++) acc += unitHash(7, `web\u0000doc-${i}`);
const ours = performance.now() - t0;
t0 = performance.now();
for (let i = 0; i < N; i++) acc += createHash('sha256').update(`7\u0000web\u0000doc-${i}`).digest().readUInt32BE(0) / 2 ** 32;
const sha = performance.now() - t0;
console.log('| hash | ms | ids per second | ratio to SHA-256 |');
console.log('|---|---:|---:|---:|');
console.log(`| SHA-256 (baseline) | ${sha.toFixed(0)} | ${Math.round(N / (sha / 1000))} | 1.00 |`);
console.log(`| unitHash | ${ours.toFixed(0)} | ${Math.round(N / (ours / 1000))} | ${(sha / ours).toFixed(2)}× faster |`);
if (acc < 0) console.log(acc);

console.log('\n## Planner solve time\n');
console.log('| buckets | ms | ratio to 100 buckets | peak RSS MB |');
console.log('|---:|---:|---:|---:|');
let baseline = 0;
for (const sources of sized([5, 25, 50, 100], [5, 10])) {
  const b = new CensusBuilder();
  const langs = ['en', 'fr', 'de', 'zh', 'es'];
  const cats = ['general', 'code', 'math', 'science'];
  for (let s = 0; s < sources; s++) for (const c of cats) for (const l of langs) b.add({ source: `s${s}`, category: c, language: l, quality_band: 'medium' }, 1000, 1e9 * (1 + ((s * 7 + c.length + l.charCodeAt(0)) % 13)));
  const census = b.build();
  const start = performance.now();
  await planMix(census, parseMixConfig({ total_tokens: census.totals.tokens * 0.5, shares: { code: 0.17, math: 0.25 }, quality_weights: { high: 2 } }));
  const ms = performance.now() - start;
  if (sources === 5) baseline = ms;
  console.log(`| ${census.buckets.length} | ${ms.toFixed(0)} | ${(ms / baseline).toFixed(2)} | ${(process.memoryUsage().rss / 1e6).toFixed(0)} |`);
}
