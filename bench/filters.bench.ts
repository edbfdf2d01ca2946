/**
 * Filter throughput, language-ID agreement, and the FineWeb duplicated-line threshold.
 *
 *   node --import tsx bench/filters.bench.ts
 *
 * 1. MB/s per core (one thread) of each filter stage and of the whole default set, on the same
 *    corpus in one run; the baseline is `splitWords` alone over the same text (the word split that
 *    most rules start with), and each row gives its speed as a ratio of it. Peak RSS at the end.
 * 2. lid.176 agreement with the source language labels of ../shared/devdata/multilingual
 *    (documents of 200+ characters, and all documents); then our lid.176 inference against the
 *    fasttext.wasm.js build it replaced, in this process: CPU time as a ratio over the first
 *    10,000 characters of each document of part 1's corpus (3 alternated rounds, the median
 *    round's ratio), and how many predictions differ (label or score; expected 0).
 * 3. FineWeb `char_duplicates_ratio` 0.1 (paper) vs 0.01 (datatrove's code) on documents with a
 *    human quality label (DCLM annotation study) and on State of the Union addresses.
 * Text: ../shared/devdata when present (web, quality), cycled to ~8 MB; else seeded generated text;
 * parts 2 and 3 need devdata and say so when it is absent. BENCH_QUICK=1 (bench/quick.ts): ~100 KB
 * of generated text, and generated English rows with alternating labels in place of parts 2 and 3's data.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Doc } from '../pipeline/doc.ts';
import type { DocStage, StageContext } from '../pipeline/stage.ts';
import { defaultFilterStages, filterStageModules } from '../filters/stages.ts';
import { loadStage, registerStageModules } from '../pipeline/registry.ts';

registerStageModules(filterStageModules);
import { splitWords } from '../text/words.ts';
import { loadLidModel, normaliseForLid, predictLanguages } from '../filters/langid/lid-model.ts';
import { lidPrefix } from '../filters/langid/prefix.ts';
import { getLIDModel } from 'fasttext.wasm.js';
import { fineweb, finewebOptions } from '../filters/fineweb.ts';
import { readDevdataJsonl } from './devdata.ts';
import { QUICK, sized } from './quick.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';

const TARGET_BYTES = sized(8e6, 1e5);

interface Row {
  id: string;
  text: string;
  lang?: string;
  label?: unknown;
  meta?: Record<string, unknown>;
}


function generated(): Row[] {
  let s = 12345;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32);
  const vocab = 'the of and to in a is that for it as was with be by on not he this are or his from at which but have an they you were her she there would their we him been has when who will more no if out so said what up its about into than them can only other new some could time these two may then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');
  const rows: Row[] = [];
  let bytes = 0;
  for (let i = 0; bytes < TARGET_BYTES; i++) {
    const lines = Array.from({ length: 5 + (i % 20) }, () => Array.from({ length: 8 + Math.floor(r() * 20) }, () => vocab[Math.floor(vocab.length * r() ** 2)]).join(' ') + '.');
    const text = lines.join('\n');
    bytes += Buffer.byteLength(text);
    rows.push({ id: `gen-${i}`, text });
  }
  return rows;
}

/** Quick mode's stand-in for the labelled devdata sets of parts 2 and 3. */
function quickRows(): Row[] {
  return generated().slice(0, 20).map((r, i) => ({ ...r, lang: 'en', label: i % 2 }));
}

function corpus(): { docs: Doc[]; bytes: number; source: string } {
  const real = [
    ...readDevdataJsonl<Row>('web/dolma_cc_main_2019_30_seg00140.jsonl'),
    ...readDevdataJsonl<Row>('quality/dclm_human_quality_dev.jsonl'),
    ...readDevdataJsonl<Row>('quality/sotu_state_of_the_union.jsonl.gz'),
    ...readDevdataJsonl<Row>('multilingual/debian_fortunes_multilingual.jsonl.gz').slice(0, 3000),
  ];
  const rows = real.length > 0 ? real : generated();
  const docs: Doc[] = [];
  let bytes = 0;
  for (let i = 0; bytes < TARGET_BYTES; i++) {
    const row = rows[i % rows.length]!;
    bytes += Buffer.byteLength(row.text);
    const url = typeof row.meta?.url === 'string' ? row.meta.url : undefined;
    docs.push({ id: `${row.id}#${Math.floor(i / rows.length)}`, text: row.text, meta: url ? { url } : {} });
  }
  return { docs, bytes, source: real.length > 0 ? 'devdata (web, quality, multilingual), cycled' : 'generated text' };
}

const root = await mkdtemp(join(tmpdir(), 'refinery-bench-filters-'));

async function context(): Promise<StageContext> {
  const dir = await mkdtemp(join(root, 'stage-'));
  return { baseDir: dir, outputDir: join(dir, 'out'), workDir: join(dir, 'work'), seed: 0, keyPath: 'bench', files: folderFiles };
}

async function* iterate(docs: Doc[]): AsyncIterable<Doc> {
  yield* docs;
}

const BATCH = 256;

/** Runs one stage over copies of `docs`; returns seconds and the documents it kept. */
async function timeStage(name: string, docs: Doc[]): Promise<{ seconds: number; kept: Doc[] }> {
  const def = (await loadStage(name))!;
  const ctx = await context();
  const copies = docs.map((d) => ({ id: d.id, text: d.text, meta: { ...d.meta } }));
  const t0 = performance.now();
  const stage = await def.create(def.options.parse({}), ctx);
  let applier: DocStage;
  if (stage.kind === 'global') {
    await stage.map({ index: 0, count: 1 }, iterate(copies));
    await stage.reduce(0, 1);
    applier = await stage.applier({ index: 0, count: 1 });
  } else applier = stage;
  const kept: Doc[] = [];
  for (let i = 0; i < copies.length; i += BATCH) {
    const batch = copies.slice(i, i + BATCH);
    const vs = await applier.process(batch);
    batch.forEach((d, j) => vs[j]!.keep && kept.push(d));
  }
  return { seconds: (performance.now() - t0) / 1000, kept };
}

async function throughput(): Promise<void> {
  const { docs, bytes, source } = corpus();
  const mb = bytes / 1e6;
  process.stdout.write(`### Throughput, one thread (${docs.length} documents, ${mb.toFixed(1)} MB; ${source})\n\n`);
  await predictLanguages('warm up'); // the model loads once per process; not part of any row
  const t0 = performance.now();
  let words = 0;
  for (const d of docs) words += splitWords(d.text).length;
  const baseSeconds = (performance.now() - t0) / 1000;
  const baseRate = mb / baseSeconds;
  const rows: string[] = ['| stage | MB/s per core | × baseline | kept |', '|---|---:|---:|---:|', `| baseline: splitWords (${words} words) | ${baseRate.toFixed(1)} | 1.00 | – |`];
  for (const name of defaultFilterStages) {
    const { seconds, kept } = await timeStage(name, docs);
    rows.push(`| ${name} | ${(mb / seconds).toFixed(1)} | ${(mb / seconds / baseRate).toFixed(2)} | ${((100 * kept.length) / docs.length).toFixed(1)}% |`);
  }
  let current = docs;
  let total = 0;
  for (const name of defaultFilterStages) {
    const { seconds, kept } = await timeStage(name, current);
    total += seconds;
    current = kept;
  }
  rows.push(`| **default set, in order** | ${(mb / total).toFixed(1)} | ${(mb / total / baseRate).toFixed(2)} | ${((100 * current.length) / docs.length).toFixed(1)}% |`);
  process.stdout.write(rows.join('\n') + '\n\n');
}

async function langidAgreement(): Promise<void> {
  const rows = QUICK ? quickRows() : readDevdataJsonl<Row>('multilingual/debian_fortunes_multilingual.jsonl.gz');
  process.stdout.write('### Language ID agreement with source labels (devdata multilingual)\n\n');
  if (rows.length === 0) {
    process.stdout.write('(../shared/devdata is not here: skipped)\n\n');
    return;
  }
  const expected = (lang: string) => lang.split('-')[0]!.toLowerCase();
  const table = new Map<string, { n: number; ok: number; nLong: number; okLong: number }>();
  const confusions = new Map<string, number>();
  for (const r of rows) {
    const lang = expected(r.lang ?? '');
    const [best] = await predictLanguages(r.text);
    const ok = best?.language === lang;
    const t = table.get(lang) ?? { n: 0, ok: 0, nLong: 0, okLong: 0 };
    t.n++;
    if (ok) t.ok++;
    if (r.text.length >= 200) {
      t.nLong++;
      if (ok) t.okLong++;
      else confusions.set(`${lang}→${best?.language}`, (confusions.get(`${lang}→${best?.language}`) ?? 0) + 1);
    }
    table.set(lang, t);
  }
  const out = ['| language | docs ≥ 200 chars | agreement | all docs | agreement |', '|---|---:|---:|---:|---:|'];
  const sum = { n: 0, ok: 0, nLong: 0, okLong: 0 };
  for (const [lang, t] of [...table].sort()) {
    out.push(`| ${lang} | ${t.nLong} | ${pct(t.okLong, t.nLong)} | ${t.n} | ${pct(t.ok, t.n)} |`);
    sum.n += t.n;
    sum.ok += t.ok;
    sum.nLong += t.nLong;
    sum.okLong += t.okLong;
  }
  out.push(`| **all** | ${sum.nLong} | **${pct(sum.okLong, sum.nLong)}** | ${sum.n} | ${pct(sum.ok, sum.n)} |`);
  const top = [...confusions].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${v}`).join(', ');
  process.stdout.write(out.join('\n') + `\n\nMost frequent disagreements (≥ 200 chars): ${top || 'none'}\n\n`);
}

interface ReferenceLid {
  predict(text: string, k: number, threshold: number): { size(): number; get(i: number): [number, string]; delete?: () => void };
}

async function lidInferenceVsReference(): Promise<void> {
  const texts = corpus().docs.map((d) => lidPrefix(d.text, 10_000));
  const ours = await loadLidModel();
  const reference = await (await (getLIDModel as unknown as () => Promise<{ load(): Promise<ReferenceLid> }>)()).load();
  const cpu = (run: () => void) => {
    const t0 = process.cpuUsage();
    run();
    const t = process.cpuUsage(t0);
    return t.user + t.system;
  };
  let differ = 0;
  const runOurs = () => texts.forEach((t) => ours.predict(t, 1));
  const runReference = (check: boolean) => {
    for (const t of texts) {
      const v = reference.predict((normaliseForLid(t) as unknown as { toWellFormed(): string }).toWellFormed(), 1, 0);
      if (check) {
        const [mine] = ours.predict(t, 1);
        const [score, label] = v.get(0);
        if (mine?.score !== score || `__label__${mine.label}` !== label) differ++;
      }
      v.delete?.();
    }
  };
  runReference(true); // warms both up, and compares every prediction
  const ratios: number[] = [];
  for (let round = 0; round < 3; round++) ratios.push(cpu(runOurs) / cpu(() => runReference(false)));
  ratios.sort((a, b) => a - b);
  process.stdout.write(
    `### lid.176 inference: ours / fasttext.wasm.js, in process (${texts.length} texts of at most 10,000 characters)\n\n` +
      `CPU ratio ${ratios[1]!.toFixed(2)} (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}); predictions that differ: ${differ}\n\n`,
  );
}

function pct(a: number, b: number): string {
  return b === 0 ? '–' : `${((100 * a) / b).toFixed(1)}%`;
}

function finewebDupThreshold(): void {
  const dclm = QUICK ? quickRows() : readDevdataJsonl<Row>('quality/dclm_human_quality_dev.jsonl');
  const sotu = QUICK ? quickRows() : readDevdataJsonl<Row>('quality/sotu_state_of_the_union.jsonl.gz');
  process.stdout.write('### FineWeb char_duplicates_ratio: 0.1 (paper) vs 0.01 (datatrove code)\n\n');
  if (dclm.length === 0) {
    process.stdout.write('(../shared/devdata is not here: skipped)\n\n');
    return;
  }
  const out = ['| threshold | high-quality (label 1) dropped by this rule | low-quality (label 0) dropped | State of the Union dropped |', '|---:|---:|---:|---:|'];
  for (const thr of [0.1, 0.01]) {
    const o = { ...finewebOptions.parse({}), char_duplicates_ratio: thr };
    const rate = (rows: Row[]) => {
      let n = 0;
      for (const r of rows) {
        const v = fineweb({ id: r.id, text: r.text, meta: {} }, o);
        if (!v.keep && v.rule === 'char_dup_ratio') n++;
      }
      return `${n}/${rows.length} (${pct(n, rows.length)})`;
    };
    out.push(`| ${thr} | ${rate(dclm.filter((r) => r.label === 1))} | ${rate(dclm.filter((r) => r.label === 0))} | ${rate(sotu)} |`);
  }
  process.stdout.write(out.join('\n') + '\n\n');
}

await throughput();
await langidAgreement();
await lidInferenceVsReference();
finewebDupThreshold();
process.stdout.write(`Peak RSS: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);
await rm(root, { recursive: true, force: true });
