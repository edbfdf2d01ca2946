/**
 * The runner's own overhead: a pipeline with no stages (read → write kept) against a plain
 * loop that gunzips, splits lines, JSON.parses and re-serialises the same file, in one run.
 */
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync, gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { resolveConfig } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { sized } from './quick.ts';

registerBuiltinStages();

const dir = await mkdtemp(join(tmpdir(), 'refinery-bench-runner-'));
const words = 'the of and to in a is that for it as was with be by on not he this are or his from at which'.split(' ');
let seed = 1;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const DOCS = sized(60_000, 2_000); // quick: two stripes of 1,000 records with 2 workers
const lines: string[] = [];
for (let i = 0; i < DOCS; i++) {
  const n = 100 + Math.floor(rnd() * 600);
  lines.push(JSON.stringify({ id: `d${i}`, text: Array.from({ length: n }, () => words[Math.floor(rnd() * words.length)]).join(' '), source: 'bench' }));
}
const raw = Buffer.from(lines.join('\n') + '\n');
const file = join(dir, 'in.jsonl.gz');
const gz = gzipSync(raw);
await writeFile(file, gz);
const mb = raw.length / 1e6;

const t0 = performance.now();
const out: string[] = [];
for (const l of gunzipSync(readFileSync(file)).toString('utf8').split('\n')) if (l) out.push(JSON.stringify(JSON.parse(l)));
gzipSync(out.join('\n'));
const baseline = (performance.now() - t0) / 1000;

const rows: string[] = [];
for (const workers of [1, 2]) {
  const config = resolveConfig({ inputs: [file], output: join(dir, `out${workers}`), workers, split_bytes: workers > 1 ? Math.ceil(gz.length / 2) : 0 }, { file: 'bench', baseDir: dir });
  const t1 = performance.now();
  await runPipeline(config, { quiet: true });
  const secs = (performance.now() - t1) / 1000;
  rows.push(`| refinery run, no stages, ${workers} worker(s) | ${(mb / secs).toFixed(1)} | ${(baseline / secs).toFixed(2)} |`);
}
console.log(`Input: ${mb.toFixed(1)} MB of JSONL (gzip), ${DOCS.toLocaleString('en')} documents; with 2 workers the file is split in 2 stripes.\n`);
console.log('| what | MB/s | speed vs baseline |');
console.log('|---|---:|---:|');
console.log(`| baseline: gunzip + split + JSON.parse + stringify + gzip, one thread | ${(mb / baseline).toFixed(1)} | 1.00 |`);
for (const r of rows) console.log(r);
console.log(`\nPeak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB`);
await rm(dir, { recursive: true, force: true });
