/**
 * The whole default pipeline, end to end (issue 16): `npm run bench -- pipeline`.
 *
 * 1. WARC reading with main-text extraction, pages/s on one core: devdata's crawl WARCs (the
 *    22-page Dolma sample and the one-page Common Crawl record) concatenated until ~500 pages;
 *    without devdata, the sample corpus's WARC.
 * 2. `refinery run` with the stages of examples/quickstart.yaml (same options and seed), one worker,
 *    on ≥ 40 MB of devdata text; beside it the four heuristic filters alone (gopher-repetition,
 *    gopher-quality, c4, fineweb) and minhash-dedup alone, on the same input; and first the floor,
 *    a run with no stages (read, parse, write kept/ as the default output does), and the same
 *    with --no-report (what the report costs): every other run's CPU is printed as a ratio to the
 *    floor's. docs/throughput.md says where the floor's time goes.
 *
 * Every run is its own process: the `refinery run` command users run (bin/refinery.mjs on the
 * compiled dist/, which the bench builds first; node's flags from its #! line), measured by
 * bench/usage-hook.mjs, so its peak RSS
 * and CPU time are its own. "MB/s per core" divides input MB by the process's CPU
 * seconds (user + system, all threads): with one worker this is close to wall time on a quiet
 * machine and far less noisy on a shared one; wall-time MB/s is printed beside it. Stage seconds
 * (wall time, as stats.json counts them) and bytes come from the run's stats.json; "outside the
 * stages" is the process's wall time minus their sum (start-up, reading, writing, the report,
 * phase boundaries of global stages). On a shared machine compare ratios between runs made together.
 * "outputs digest" is a SHA-256 of the run's kept/, rejected/, errors/ and tokens/ files (their
 * paths and bytes): every figure is tied to the bytes its run wrote, and a change that should not
 * alter outputs must leave it as it was.
 *
 * Text: every devdata JSONL corpus except the paraphrase pairs (web, quality, NSFW fortunes,
 * multilingual, code). Records shorter than 1 KB (fortunes, synthetic paragraphs) are joined, per
 * file and language, into ~2 KB documents; then, to pass the target size without exact copies,
 * consecutive documents of the same file are joined in pairs (a near-duplicate for MinHash when
 * one of the two is short, as crawls have). Without devdata: seeded generated text.
 *
 * Environment: BENCH_MB (input size, default 46), BENCH_PROF=<dir> (node --cpu-prof of every
 * run into that folder), BENCH_ONLY=warc,floor,full,filters,minhash (a subset; the
 * ratios need floor), BENCH_QUICK=1 (bench/quick.ts:
 * 0.3 MB of generated text, the sample corpus's WARC, no researcher report: checks that everything runs;
 * the figures mean nothing).
 */
import { mkdtempSync, readFileSync, writeFileSync, rmSync, mkdirSync, readdirSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { parse } from 'yaml';
import { devdataFile, readDevdataJsonl } from './devdata.ts';
import { QUICK } from './quick.ts';

const ROOT = resolve(import.meta.dirname, '..');
const TARGET_MB = QUICK ? 0.3 : Number(process.env.BENCH_MB ?? 46);
const WARC_PAGES = QUICK ? 40 : 500;
const PROF = process.env.BENCH_PROF ? resolve(process.env.BENCH_PROF) : undefined;
const ONLY = (process.env.BENCH_ONLY ?? 'warc,floor,full,filters,minhash').split(',');

interface Usage {
  /** Seconds inside the child, from its first line to the end (no node/tsx start-up). */
  inside: number;
  cpu: number;
  maxRssMB: number;
  pages?: number;
  errors?: number;
}

// ---- child mode: one measured run in this process ----
if (process.argv[2] === '--child') {
  const [, , , mode, arg, usageFile] = process.argv;
  const t0 = performance.now();
  const extra: Partial<Usage> = {};
  let c0 = { user: 0, system: 0 };
  if (mode === 'warc') {
    // The compiled reader (what `refinery` runs), its CPU counted from after this import: the
    // child itself starts through tsx, whose start-up is not the reader's.
    const { readDocs } = (await import(QUICK ? '../pipeline/io/read.ts' : '../dist/pipeline/io/read.js')) as typeof import('../pipeline/io/read.ts');
    c0 = process.cpuUsage();
    let pages = 0;
    let errors = 0;
    for await (const it of readDocs(arg!)) if (it.kind === 'doc') pages++;
    else errors++;
    Object.assign(extra, { pages, errors });
  } else throw new Error(`unknown child mode ${mode}`);
  const cpu = process.cpuUsage(c0);
  const usage: Usage = { inside: (performance.now() - t0) / 1000, cpu: (cpu.user + cpu.system) / 1e6, maxRssMB: process.resourceUsage().maxRSS / 1024, ...extra };
  writeFileSync(usageFile!, JSON.stringify(usage));
  process.exit(0);
}

// ---- the corpus ----
interface Row {
  id: string;
  text: string;
  lang?: string;
  meta?: Record<string, unknown>;
}
interface Source {
  name: string;
  rows: Row[];
  meta?: Record<string, unknown>;
}

const SOURCES: { file: string; meta?: Record<string, unknown> }[] = [
  { file: 'web/dolma_cc_main_2019_30_seg00140.jsonl' },
  { file: 'web/dolma_ccnet_head_samples.jsonl' },
  { file: 'quality/dclm_human_quality_dev.jsonl' },
  { file: 'quality/sotu_state_of_the_union.jsonl.gz' },
  { file: 'quality/spamassassin_emails.jsonl.gz' },
  { file: 'quality/dolma_gpt35_synthetic_topic_style.jsonl' },
  { file: 'nsfw/fortune_mod_offensive_vs_clean.jsonl.gz' },
  { file: 'multilingual/debian_fortunes_multilingual.jsonl.gz' },
  { file: 'code/source_files_multilang.jsonl.gz', meta: { category: 'code' } },
];

/** Short records of one file and language joined into documents of about 2 KB. */
function joinShort(name: string, rows: Row[]): Row[] {
  const out: Row[] = [];
  const pending = new Map<string, Row[]>();
  const flush = (lang: string) => {
    const group = pending.get(lang)!;
    out.push({ id: `${name}-joined-${out.length}`, text: group.map((r) => r.text.trim()).join('\n\n'), ...(lang ? { lang } : {}) });
    pending.set(lang, []);
  };
  for (const r of rows) {
    if (r.text.length >= 1000) {
      out.push(r);
      continue;
    }
    const lang = r.lang ?? '';
    if (!pending.has(lang)) pending.set(lang, []);
    const g = pending.get(lang)!;
    g.push(r);
    if (g.reduce((a, x) => a + x.text.length, 0) >= 2000) flush(lang);
  }
  for (const [lang, g] of pending) if (g.length) flush(lang);
  return out;
}

function generatedSources(): Source[] {
  let s = 12345;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const vocab = 'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');
  const rows: Row[] = [];
  for (let i = 0; i < 20000; i++) {
    const lines = Array.from({ length: 5 + (i % 20) }, () => Array.from({ length: 8 + Math.floor(r() * 20) }, () => vocab[Math.floor(vocab.length * r() ** 2)]).join(' ') + '.');
    rows.push({ id: `gen-${i}`, text: lines.join('\n') });
  }
  return [{ name: 'generated', rows }];
}

function corpus(dir: string): { files: { path: string; meta?: Record<string, unknown> }[]; mb: number; docs: number; origin: string } {
  let sources: Source[] = SOURCES.map((s) => ({ name: s.file.replace(/[/.]/g, '_'), rows: readDevdataJsonl<Row>(s.file), meta: s.meta })).filter((s) => s.rows.length > 0);
  const real = sources.length > 0;
  if (!real) sources = generatedSources();
  const target = TARGET_MB * 1e6;
  const first = sources.map((s) => joinShort(s.name, s.rows));
  const firstBytes = first.flat().reduce((a, r) => a + Buffer.byteLength(r.text), 0);
  // QUICK: a slice of every source. Otherwise: every document once, then joined pairs round-robin
  // over the sources until the target is passed.
  const chosen: Row[][] = first.map(() => []);
  let bytes = 0;
  if (QUICK || firstBytes >= target) {
    const share = target / Math.max(firstBytes, 1);
    first.forEach((rows, i) => {
      let b = 0;
      const cap = rows.reduce((a, r) => a + Buffer.byteLength(r.text), 0) * share;
      for (const r of rows) {
        if (b >= cap) break;
        chosen[i]!.push(r);
        b += Buffer.byteLength(r.text);
      }
      bytes += b;
    });
  } else {
    first.forEach((rows, i) => chosen[i]!.push(...rows));
    bytes = firstBytes;
    const pairs = first.map((rows, si) => rows.slice(0, -1).map((r, i) => ({ id: `${r.id}+next`, text: `${r.text}\n\n${rows[i + 1]!.text}`, ...(r.lang ? { lang: r.lang } : {}), si })));
    for (let k = 0; bytes < target && pairs.some((p) => k < p.length); k++) {
      for (const p of pairs) {
        const pr = p[k];
        if (!pr || bytes >= target) continue;
        chosen[pr.si]!.push({ id: pr.id, text: pr.text, lang: pr.lang });
        bytes += Buffer.byteLength(pr.text);
      }
    }
  }
  const files = sources.map((s, i) => {
    const path = join(dir, 'in', `${s.name}.jsonl.gz`);
    const lines = chosen[i]!.map((r, j) => JSON.stringify({ id: `${s.name}-${j}`, text: r.text, ...(r.lang ? { lang: r.lang } : {}) }));
    writeFileSync(path, gzipSync(lines.join('\n') + '\n'));
    return { path, meta: s.meta };
  });
  const docs = chosen.reduce((a, c) => a + c.length, 0);
  return { files, mb: bytes / 1e6, docs, origin: real ? 'devdata JSONL corpora (web, quality, NSFW, multilingual, code)' : 'generated text (devdata absent)' };
}

/** Crawl WARCs concatenated (gzip members concatenate) until about `pages` pages. */
function warcInput(dir: string): { path: string; origin: string } {
  const devdata = ['warc/allenai__dolma__sample-0000.warc.gz', 'warc/commoncrawl__whirlwind-python__whirlwind.warc.gz'].map(devdataFile);
  const real = devdata.every((f) => f !== undefined);
  const parts = (real ? (devdata as string[]) : [join(ROOT, 'examples/corpus/debian-history.warc.gz')]).map((f) => readFileSync(f));
  const perCopy = real ? 23 : 31;
  const copies = Math.ceil(WARC_PAGES / perCopy);
  const path = join(dir, 'crawl.warc.gz');
  writeFileSync(path, Buffer.concat(Array.from({ length: copies }, () => parts).flat()));
  return { path, origin: real ? `devdata crawl WARCs (Dolma sample + Common Crawl record) × ${copies}` : `examples/corpus/debian-history.warc.gz × ${copies} (devdata absent)` };
}

// ---- running ----
function child(mode: string, arg: string, label: string, runFlags: string[] = []): Usage & { wall: number } {
  const usageFile = join(work, `usage-${label}.json`);
  const prof = PROF ? ['--cpu-prof', `--cpu-prof-dir=${join(PROF, label)}`] : [];
  const t0 = performance.now();
  // A pipeline run is the `refinery` command users run (compiled dist/, built before the runs),
  // measured by an exit hook; WARC reading runs this file's child mode.
  // bin/refinery.mjs runs with the node flags of its #! line, as `npx refinery` runs it, plus the
  // usage hook (and the profiler, which NODE_OPTIONS does not take).
  const refinery = join(ROOT, 'bin/refinery.mjs');
  const shebangFlags = readFileSync(refinery, 'utf8').split('\n', 1)[0]!.split(/\s+/).filter((w) => w.startsWith('--'));
  const hook = `--import=${pathToFileURL(join(ROOT, 'bench/usage-hook.mjs')).href}`;
  const [command, ...argv] =
    mode === 'run'
      ? [process.execPath, ...shebangFlags, hook, ...prof, refinery, 'run', arg, '-w', '1', '-q', ...(QUICK ? ['--no-report'] : runFlags)]
      : [process.execPath, '--import', 'tsx', ...prof, import.meta.filename, '--child', mode, arg, usageFile];
  const source = mode === 'run' ? (QUICK ? {} : { REFINERY_FROM_SOURCE: '0' }) : { REFINERY_FROM_SOURCE: '1' };
  const r = spawnSync(command!, argv, { stdio: ['ignore', 'ignore', 'inherit'], cwd: ROOT, env: { ...process.env, ...source, BENCH_USAGE_FILE: usageFile } });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${label} run failed (exit ${r.status ?? r.signal})`);
  return { ...(JSON.parse(readFileSync(usageFile, 'utf8')) as Usage), wall };
}

interface StageRow {
  name: string;
  seconds: number;
  bytes_in: number;
}

function pipelineYaml(name: string, stages: unknown[], seed: number): string {
  const file = join(work, `${name}.yaml`);
  const out = join(work, `out-${name}`);
  writeFileSync(file, JSON.stringify({ inputs: input.files.map((f) => (f.meta ? { path: f.path, meta: f.meta } : f.path)), output: out, seed, stages }));
  return file;
}

/** SHA-256 of the data outputs (kept/, rejected/, errors/, tokens/), to check that a change kept them byte-identical. */
function outputDigest(out: string): string {
  const h = createHash('sha256');
  for (const sub of ['kept', 'rejected', 'errors', 'tokens']) {
    const dir = join(out, sub);
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort()) {
      const path = join(dir, f);
      if (statSync(path).isFile()) h.update(`${sub}/${f}\0`).update(readFileSync(path));
    }
  }
  return h.digest('hex').slice(0, 12);
}

function runPipelineBench(name: string, stages: unknown[], seed: number, runFlags: string[] = []) {
  const out = join(work, `out-${name}`);
  // A kept BENCH_WORK folder holds the last run's output, over an input written again since.
  rmSync(out, { recursive: true, force: true });
  const usage = child('run', pipelineYaml(name, stages, seed), name, runFlags);
  const stats = JSON.parse(readFileSync(join(out, 'stats.json'), 'utf8')) as { stages: StageRow[]; totals: { kept: number } };
  return { usage, stats, digest: outputDigest(out) };
}

const f1 = (x: number) => (x >= 100 ? x.toFixed(0) : x.toFixed(x >= 10 ? 1 : 2));

// BENCH_WORK=<dir>: build the input and run there, and keep it afterwards (to rerun a run by hand).
const keepWork = process.env.BENCH_WORK ? resolve(process.env.BENCH_WORK) : undefined;
const work = keepWork ?? mkdtempSync(join(tmpdir(), 'refinery-bench-pipeline-'));
mkdirSync(join(work, 'in'), { recursive: true });
if (PROF) mkdirSync(PROF, { recursive: true });
const input = corpus(work);

try {
  // The runs use the compiled command: bring dist/ up to date with the sources first (quick mode
  // does not build: bin/refinery.mjs runs the sources when dist/ is older than them).
  if (!QUICK) {
    const b = spawnSync('npm', ['run', '-s', 'build'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    if (b.status !== 0) throw new Error('npm run build failed');
  }
  if (ONLY.includes('warc')) {
    const warc = warcInput(work);
    const u = child('warc', warc.path, 'warc');
    process.stdout.write(`### WARC reading with main-text extraction (one core)\n\nInput: ${warc.origin}: ${u.pages} pages (${u.errors} error items).\n\n`);
    process.stdout.write('| what | pages/s (CPU, after start-up) | pages/s (wall, after start-up) | whole process s | peak RSS MB |\n|---|---:|---:|---:|---:|\n');
    process.stdout.write(`| read + extract | ${f1(u.pages! / u.cpu)} | ${f1(u.pages! / u.inside)} | ${f1(u.wall)} | ${u.maxRssMB.toFixed(0)} |\n\n`);
  }

  const quickstart = parse(readFileSync(join(ROOT, 'examples/quickstart.yaml'), 'utf8')) as { seed: number; stages: (string | { stage: string; options?: Record<string, unknown> })[] };
  // Paths in options are relative to the quickstart file; the bench's pipeline lives elsewhere.
  const fullStages = quickstart.stages.map((s) => (typeof s === 'object' && typeof s.options?.model === 'string' ? { ...s, options: { ...s.options, model: resolve(ROOT, 'examples', s.options.model) } } : s));
  const runs: [string, string, unknown[], string[]?][] = [
    // First: the others' CPU is divided by its.
    ['floor', 'the floor: no stages (read, parse, write kept/)', []],
    // The floor less the report: what the report costs (its modules, and reading kept/ again).
    ['floor-no-report', 'the floor without the report (--no-report)', [], ['--no-report']],
    ['full', 'quickstart pipeline (all stages)', fullStages],
    ['filters', 'four filters only (gopher-repetition, gopher-quality, c4, fineweb)', ['gopher-repetition', 'gopher-quality', 'c4', 'fineweb']],
    ['minhash', 'minhash-dedup only (all phases)', ['minhash-dedup']],
  ];
  process.stdout.write(`### Pipelines, one worker\n\nInput: ${input.origin}: ${f1(input.mb)} MB of text in ${input.docs.toLocaleString('en-US')} documents, ${input.files.length} gzip JSONL files.\n\n`);
  const head = "| run | MB/s per core (CPU) | CPU × the floor's | MB/s (wall) | CPU s | wall s | stages s | outside the stages s | kept docs | peak RSS MB | outputs digest |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";
  let table = head;
  let detail = '';
  let floorCpu: number | undefined;
  for (const [name, what, stages, runFlags] of runs) {
    if (!ONLY.includes(name.replace(/-no-report$/, ''))) continue;
    const { usage: u, stats, digest } = runPipelineBench(name, stages, quickstart.seed, runFlags);
    if (name === 'floor') floorCpu = u.cpu;
    const inStages = stats.stages.reduce((a, s) => a + s.seconds, 0);
    const ratio = floorCpu === undefined ? '–' : `${(u.cpu / floorCpu).toFixed(2)}x`;
    table += `| ${what} | ${f1(input.mb / u.cpu)} | ${ratio} | ${f1(input.mb / u.wall)} | ${f1(u.cpu)} | ${f1(u.wall)} | ${f1(inStages)} | ${f1(u.wall - inStages)} | ${stats.totals.kept} | ${u.maxRssMB.toFixed(0)} | ${digest} |\n`;
    if (name === 'full') {
      detail += '| stage | seconds | MB in | MB/s | share of wall time |\n|---|---:|---:|---:|---:|\n';
      for (const s of [...stats.stages].sort((a, b) => b.seconds - a.seconds)) {
        detail += `| ${s.name} | ${f1(s.seconds)} | ${f1(s.bytes_in / 1e6)} | ${s.seconds > 0 ? f1(s.bytes_in / 1e6 / s.seconds) : '–'} | ${((100 * s.seconds) / u.wall).toFixed(1)}% |\n`;
      }
      detail += `| outside the stages (start-up, reading, writing, report, phase boundaries) | ${f1(u.wall - inStages)} | | | ${((100 * (u.wall - inStages)) / u.wall).toFixed(1)}% |\n`;
    }
  }
  process.stdout.write(table + '\n');
  if (floorCpu !== undefined) {
    process.stdout.write("CPU × the floor's: the run's CPU seconds over those of the floor, the run with no stages on the same input (read, parse, write kept/; docs/throughput.md says where its time goes). Outputs digest: SHA-256 of the paths and bytes of kept/, rejected/, errors/ and tokens/.\n\n");
  }
  if (detail) process.stdout.write(`Stages of the quickstart pipeline (seconds and bytes from its stats.json):\n\n${detail}\n`);
  if (QUICK) process.stdout.write('(BENCH_QUICK=1: tiny input, the figures mean nothing)\n');
  if (PROF) process.stdout.write(`CPU profiles: ${PROF}/<run>/*.cpuprofile\n`);
} finally {
  if (!keepWork) rmSync(work, { recursive: true, force: true });
}
