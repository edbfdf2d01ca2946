/**
 * Quality-classifier benchmarks.
 *
 *   node --import tsx bench/classifiers.bench.ts
 *
 * 1. Scoring: documents per CPU-second, i.e. per core (ONNX Runtime with 1 thread, batches of 256; wall-clock rates are printed beside, and are lower on a busy machine) for 2 KB
 *    documents, through the `quality` stage with the default model shape (2^18 buckets, dim 32,
 *    word 1–2-grams). Baseline: the same model's forward pass in TypeScript (no ONNX Runtime).
 *    Then the model alone, split against whole: the embedding bag pooled by the WebAssembly kernel
 *    (classifiers/fasttext/pooling.wat) with a graph of the layers alone, against the whole
 *    ONNX graph, on the same hashed batches of 256 (hashing left out: it is the same both ways),
 *    paired rounds in alternating order, medians; for the shipped examples/models/quality (dim 16)
 *    and the default shape; the scores are checked equal bit for bit.
 * 2. Training: seconds per 100,000 examples (2 KB each) for the default 5 epochs, measured on
 *    10,000. Baseline: fastText's default dim 100.
 * 3. Held-out F1 on human quality labels (DCLM annotation study, 218 web pages, label 1 = high):
 *    5-fold cross-validation repeated with 3 seeds, threshold 0.5, against predicting
 *    "high" for everything; then DCLM's recipe (clean-source positives vs raw-web negatives, no
 *    human label in training) evaluated on all 218 pages. Needs ../shared/devdata; says so when
 *    it is absent.
 * Text for 1 and 2: ../shared/devdata web + quality pages joined and cut into 2,048-character
 * documents, else seeded generated text. Peak RSS is printed at the end. BENCH_QUICK=1
 * (bench/quick.ts): a few hundred generated documents, 2^12 buckets, one seed, and generated
 * pages with alternating labels in place of part 3's data.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Doc } from '../pipeline/doc.ts';
import { FeatureHasher, FeatureOptions } from '../classifiers/fasttext/features.ts';
import { SgdOptions, trainFastText, type TrainingExample } from '../classifiers/fasttext/train.ts';
import { trainFromLabels } from '../classifiers/training-run.ts';
import { createQualityStage, qualityOptions } from '../classifiers/quality-stage.ts';
import { binaryMetrics } from '../classifiers/metrics.ts';
import { SeededRandom } from '../pipeline/seeded-random.ts';
import { readDevdataJsonl } from './devdata.ts';
import { QUICK, sized } from './quick.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';
import { openFastTextOnnx, type FastTextOnnx } from '../classifiers/fasttext/onnx-scoring.ts';

const DOC_CHARS = 2048;
/** Quick mode shrinks the hash table (2^18 rows by default), which dominates its time. */
const SHAPE: { buckets?: number } = sized({}, { buckets: 1 << 12 });
/** Every model trains at the settings given: the bench times SGD, not the autotune search. */
const FIXED: Record<string, number> = { autotune_seconds: 0, test_fraction: 0.05, valid_fraction: 0.05 };
let peakRss = 0;
const sampleRss = () => (peakRss = Math.max(peakRss, process.memoryUsage().rss));

/** Wall and CPU seconds of `fn` (CPU time is what "per core" means on a shared machine). */
async function timed(fn: () => unknown): Promise<{ wall: number; cpu: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const c = process.cpuUsage(c0);
  return { wall: (performance.now() - t0) / 1000, cpu: (c.user + c.system) / 1e6 };
}

interface Row {
  id: string;
  text: string;
  label?: unknown;
}


/** `count` documents of 2,048 characters: real pages joined and cut, else generated prose. */
function corpus(count: number): { docs: string[]; origin: string } {
  const real = [...readDevdataJsonl<Row>('web/dolma_cc_main_2019_30_seg00140.jsonl'), ...readDevdataJsonl<Row>('quality/dclm_human_quality_dev.jsonl'), ...readDevdataJsonl<Row>('quality/sotu_state_of_the_union.jsonl.gz')];
  const docs: string[] = [];
  if (real.length > 0) {
    const all = real.map((r) => r.text).join('\n\n');
    for (let i = 0; docs.length < count; i = (i + DOC_CHARS) % Math.max(1, all.length - DOC_CHARS)) docs.push(all.slice(i, i + DOC_CHARS));
    return { docs, origin: `devdata web + quality pages (${real.length} pages, ${(all.length / 1e6).toFixed(1)} M characters), cut into 2,048-character documents` };
  }
  const rng = new SeededRandom(1);
  const vocab = 'the of and to in a is that for it as was with be by on not this are or from at which but have an they you were there would their we been has when who will more if out so said what up its about into than them can only other new some could time these two may then first any like over even most made after also many before must through back years where much way well down should because each just those people how too little state good very make world still own see work long get here between both life being under never day same another know while last might great old year off come since against go right used take three'.split(' ');
  while (docs.length < count) {
    let t = '';
    while (t.length < DOC_CHARS) t += Array.from({ length: 8 + rng.int(20) }, () => vocab[Math.floor(vocab.length * rng.next() ** 2)]).join(' ') + '.\n';
    docs.push(t.slice(0, DOC_CHARS));
  }
  return { docs, origin: 'generated text (devdata absent, or quick mode)' };
}

/** Quick mode's stand-in for the labelled pages of part 3: generated text, labels alternating. */
function quickRows(): Row[] {
  return corpus(40).docs.map((text, i) => ({ id: `q${i}`, text: text.slice(0, 300), label: i % 2 }));
}

async function trainModel(dir: string, texts: string[], options: Record<string, number>): Promise<{ seconds: number; modelDir: string }> {
  const file = join(dir, `labels-${Object.values(options).join('-')}.jsonl`);
  // Labels only need to exist for timing: a document is "high" when it has more than 25 lines.
  await writeFile(file, texts.map((t, i) => JSON.stringify({ id: `b${i}`, text: t, label: t.split('\n').length > 25 ? 1 : 0 })).join('\n') + '\n');
  const modelDir = join(dir, `model-${Object.values(options).join('-')}`);
  const t = await timed(() => trainFromLabels(file, modelDir, { ...SHAPE, ...options, ...FIXED }));
  sampleRss();
  return { seconds: t.cpu, modelDir };
}

async function scoringBench(dir: string): Promise<void> {
  const N = sized(20_000, 300);
  const { docs: texts, origin } = corpus(N);
  process.stdout.write(`### Scoring 2 KB documents, one core\n\nText: ${origin}; ${N.toLocaleString('en')} documents; cores on this machine: ${availableParallelism()}.\n\n`);
  const variants: { name: string; options: Record<string, number> }[] = [
    { name: 'default (dim 32, word 1–2-grams)', options: {} },
    { name: 'char n-grams 3–5 (minn 3, maxn 5)', options: { minn: 3, maxn: 5 } },
    { name: 'dim 100 (fastText default)', options: { dim: 100 } },
  ];
  const rows: string[] = [];
  let baseline = 0;
  for (const v of variants) {
    const { modelDir } = await trainModel(dir, texts.slice(0, sized(2000, 200)), { epochs: 1, ...v.options });
    const stage = await createQualityStage(qualityOptions.parse({ model: modelDir }), { baseDir: dir, outputDir: dir, workDir: dir, seed: 0, keyPath: 'bench', files: folderFiles });
    if (v === variants[0]) {
      // Baseline: hashing + the TypeScript forward pass of the same default model.
      const card = JSON.parse(readFileSync(join(modelDir, 'card.json'), 'utf8')) as { features: FeatureOptions };
      const hasher = new FeatureHasher(card.features);
      const { model } = await trainFromLabels(join(dir, 'labels-1.jsonl'), join(dir, 'ts-model'), { ...SHAPE, epochs: 1, ...FIXED });
      let sink = 0;
      const ts = await timed(() => {
        for (const t of texts) sink += model.predict(hasher.features(t))[1]!;
      });
      const feat = await timed(() => {
        for (const t of texts) sink += hasher.features(t).length;
      });
      baseline = N / ts.cpu;
      rows.push(`| baseline: TypeScript forward pass (default model) | ${Math.round(N / ts.cpu).toLocaleString('en')} | ${Math.round(N / ts.wall).toLocaleString('en')} | 1.00 |`);
      rows.push(`| features only (hashing, no model) | ${Math.round(N / feat.cpu).toLocaleString('en')} | ${Math.round(N / feat.wall).toLocaleString('en')} | ${(N / feat.cpu / baseline).toFixed(2)} |`);
      if (sink === -1) process.stdout.write('');
    }
    const t = await timed(async () => {
      for (let s = 0; s < N; s += 256) {
        const batch: Doc[] = texts.slice(s, s + 256).map((text, i) => ({ id: `${s + i}`, text, meta: {} }));
        await stage.process(batch);
      }
    });
    const rate = N / t.cpu;
    sampleRss();
    await stage.close?.();
    rows.push(`| quality stage, ONNX Runtime: ${v.name} | ${Math.round(rate).toLocaleString('en')} | ${Math.round(N / t.wall).toLocaleString('en')} | ${(rate / baseline).toFixed(2)} |`);
  }
  process.stdout.write(`| scorer | docs per CPU-second | docs per wall-second | vs baseline (CPU) |\n|---|---:|---:|---:|\n${rows.join('\n')}\n\n`);
  await splitBench(dir, texts);
}

/** The model alone, split (kernel + layers graph) against the whole graph: paired rounds, medians. */
async function splitBench(dir: string, texts: string[]): Promise<void> {
  const ROUNDS = sized(7, 1);
  const BATCH = 256;
  const { modelDir } = await trainModel(dir, texts.slice(0, sized(2000, 200)), { epochs: 1 });
  const models = [
    { name: 'examples/models/quality (2^14 buckets, dim 16)', dir: join(import.meta.dirname, '..', 'examples', 'models', 'quality') },
    { name: `default shape (2^${Math.log2(SHAPE.buckets ?? 1 << 18)} buckets, dim 32)`, dir: modelDir },
  ];
  const rows: string[] = [];
  for (const m of models) {
    const card = JSON.parse(readFileSync(join(m.dir, 'card.json'), 'utf8')) as { features: FeatureOptions; onnx?: string };
    const hasher = new FeatureHasher(card.features);
    const batches: Int32Array[][] = [];
    for (let s = 0; s < texts.length; s += BATCH) batches.push(texts.slice(s, s + BATCH).map((t) => hasher.features(t)));
    const file = join(m.dir, card.onnx ?? 'model.onnx');
    let split!: FastTextOnnx;
    let whole!: FastTextOnnx;
    const load = { whole: await timed(async () => (whole = await openFastTextOnnx(file, { whole: true }))), split: await timed(async () => (split = await openFastTextOnnx(file))) };
    if (!split.split) throw new Error(`${file}: the split path did not load`);
    const run = async (model: FastTextOnnx): Promise<Float32Array[]> => {
      const out: Float32Array[] = [];
      for (const b of batches) out.push(await model.scores(b));
      return out;
    };
    const [a, b] = [await run(split), await run(whole)];
    const same = a.every((x, i) => Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(b[i]!.buffer, b[i]!.byteOffset, b[i]!.byteLength)));
    if (!same) throw new Error(`${file}: split scores differ from the whole graph's`);
    const cpu: { split: number[]; whole: number[] } = { split: [], whole: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const which of r % 2 === 0 ? (['whole', 'split'] as const) : (['split', 'whole'] as const)) {
        cpu[which].push((await timed(() => run(which === 'split' ? split : whole))).cpu);
      }
    }
    sampleRss();
    await split.close();
    await whole.close();
    const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[xs.length >> 1]!;
    const ratios = cpu.split.map((x, i) => x / cpu.whole[i]!);
    const [ws, ss] = [texts.length / median(cpu.whole), texts.length / median(cpu.split)];
    rows.push(`| ${m.name} | ${Math.round(ws).toLocaleString('en')} | ${Math.round(ss).toLocaleString('en')} | ${median(ratios).toFixed(2)} (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}) | ${load.whole.cpu.toFixed(2)} | ${load.split.cpu.toFixed(2)} |`);
  }
  process.stdout.write(
    `Model alone (features hashed beforehand), batches of ${BATCH}, ${ROUNDS} paired rounds; scores equal bit for bit both ways.\n\n` +
      `| model | whole graph, docs per CPU-second | split (pooling kernel + layers graph), docs per CPU-second | split CPU / whole CPU, median (range) | loading, whole: CPU s | loading, split: CPU s |\n|---|---:|---:|---:|---:|---:|\n${rows.join('\n')}\n\n`,
  );
}

async function trainingBench(dir: string): Promise<void> {
  const M = sized(10_000, 200);
  const { docs: texts, origin } = corpus(M);
  process.stdout.write(`### Training time\n\nText: ${origin}; ${M.toLocaleString('en')} examples of 2 KB, 90% trained on, 5 epochs unless said; CPU time, including hashing, the held-out metrics and writing the ONNX file, scaled to 100,000 examples.\n\n`);
  const rows: string[] = [];
  let baseline = 0;
  const variants: { name: string; options: Record<string, number> }[] = [
    { name: 'baseline: dim 100 (fastText default)', options: { dim: 100 } },
    { name: 'default (dim 32)', options: {} },
    { name: 'dim 32, hidden 32', options: { hidden: 32 } },
    { name: 'char n-grams 3–5, 1 epoch', options: { minn: 3, maxn: 5, epochs: 1 } },
  ];
  for (const v of variants) {
    const { seconds } = await trainModel(dir, texts, v.options);
    const per100k = (seconds * 100_000) / M;
    if (baseline === 0) baseline = per100k;
    rows.push(`| ${v.name} | ${per100k.toFixed(0)} | ${(baseline / per100k).toFixed(2)} |`);
  }
  process.stdout.write(`| model | CPU seconds per 100k examples | speed vs baseline |\n|---|---:|---:|\n${rows.join('\n')}\n\n`);
}

function humanF1Bench(): void {
  const rows = (QUICK ? quickRows() : readDevdataJsonl<Row>('quality/dclm_human_quality_dev.jsonl')).filter((r) => r.label === 0 || r.label === 1);
  process.stdout.write('### Held-out F1 on human quality labels (DCLM annotation study)\n\n');
  if (rows.length === 0) {
    process.stdout.write('../shared/devdata/quality/dclm_human_quality_dev.jsonl is absent: skipped.\n\n');
    return;
  }
  const positives = rows.filter((r) => r.label === 1).length;
  const SEEDS = sized(3, 1);
  process.stdout.write(`${rows.length} pages (${positives} high, ${rows.length - positives} low); 5-fold cross-validation × ${SEEDS} seeds, threshold 0.5; mean ± standard deviation over the ${5 * SEEDS} folds.\n\n`);
  const configs: { name: string; features: Partial<FeatureOptions>; sgd: Partial<SgdOptions> }[] = [
    { name: 'defaults (lr 0.1, 5 epochs, dim 32, word 1–2-grams)', features: {}, sgd: {} },
    { name: 'small-data setting (lr 0.5, 25 epochs)', features: {}, sgd: { lr: 0.5, epochs: 25 } },
    { name: 'char n-grams 3–5, lr 0.5, 25 epochs', features: { minn: 3, maxn: 5 }, sgd: { lr: 0.5, epochs: 25 } },
  ];
  const table: string[] = [];
  const stat = (xs: number[]) => {
    const m = xs.reduce((a, b) => a + b, 0) / xs.length;
    const sd = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length);
    return `${m.toFixed(3)} ± ${sd.toFixed(3)}`;
  };
  const allF1: number[] = [];
  const allPosF1 = (() => {
    const out: number[] = [];
    for (let seed = 0; seed < SEEDS; seed++) {
      const order = new SeededRandom(seed).shuffle(rows.map((_, i) => i));
      for (let k = 0; k < 5; k++) {
        const test = order.filter((_, i) => i % 5 === k);
        const tp = test.filter((i) => rows[i]!.label === 1).length;
        out.push((2 * tp) / (2 * tp + (test.length - tp)));
      }
    }
    return out;
  })();
  table.push(`| baseline: everything "high" | ${stat(allPosF1)} | 0.500 | – |`);
  for (const c of configs) {
    const hasher = new FeatureHasher(FeatureOptions.parse({ ...SHAPE, ...c.features }));
    const examples: TrainingExample[] = rows.map((r) => ({ ids: hasher.features(r.text), target: r.label as number }));
    const f1: number[] = [];
    const auc: number[] = [];
    const acc: number[] = [];
    for (let seed = 0; seed < SEEDS; seed++) {
      const order = new SeededRandom(seed).shuffle(rows.map((_, i) => i));
      for (let k = 0; k < 5; k++) {
        const testIdx = order.filter((_, i) => i % 5 === k);
        const trainIdx = order.filter((_, i) => i % 5 !== k);
        const model = trainFastText(trainIdx.map((i) => examples[i]!), { task: 'binary', buckets: hasher.options.buckets, outputs: 2 }, SgdOptions.parse(c.sgd), seed * 10 + k);
        const scores = testIdx.map((i) => model.predict(examples[i]!.ids)[1]!);
        const m = binaryMetrics(scores, testIdx.map((i) => examples[i]!.target === 1), 0.5, ['0', '1']);
        f1.push(m.f1);
        auc.push(m.roc_auc);
        acc.push(m.accuracy);
        sampleRss();
      }
    }
    allF1.push(...f1);
    table.push(`| ${c.name} | ${stat(f1)} | ${stat(auc)} | ${stat(acc)} |`);
  }
  process.stdout.write(`| classifier | F1 (high) | ROC AUC | accuracy |\n|---|---:|---:|---:|\n${table.join('\n')}\n\n`);

  // DCLM's recipe: positives from a clean source, negatives from raw web, no human label used in
  // training; then every human-labelled page is held out.
  const sotu = QUICK ? quickRows() : readDevdataJsonl<Row>('quality/sotu_state_of_the_union.jsonl.gz');
  const web = QUICK ? quickRows() : readDevdataJsonl<Row>('web/dolma_cc_main_2019_30_seg00140.jsonl');
  if (sotu.length === 0 || web.length === 0) return;
  const chunks = (t: string) => Array.from({ length: Math.min(8, Math.ceil(t.length / 3000)) }, (_, i) => t.slice(i * 3000, (i + 1) * 3000));
  const pos = sotu.flatMap((r) => chunks(r.text));
  const hasher = new FeatureHasher(FeatureOptions.parse(SHAPE));
  const examples: TrainingExample[] = [...pos.map((t) => ({ ids: hasher.features(t), target: 1 })), ...web.map((r) => ({ ids: hasher.features(r.text), target: 0 }))];
  const model = trainFastText(examples, { task: 'binary', buckets: hasher.options.buckets, outputs: 2 }, SgdOptions.parse({}), 1);
  const scores = rows.map((r) => model.predict(hasher.features(r.text))[1]!);
  const m = binaryMetrics(scores, rows.map((r) => r.label === 1), 0.5, ['0', '1']);
  const allHigh = (2 * positives) / (2 * positives + (rows.length - positives));
  process.stdout.write(
    `DCLM-style proxy training (defaults, threshold 0.5): positives = ${pos.length} chunks of ≤ 3,000 characters from ${sotu.length} State of the Union addresses, negatives = ${web.length} raw Common Crawl pages; evaluated on all ${rows.length} human-labelled pages (none seen in training).\n\n` +
      `| classifier | F1 (high) | precision | recall | ROC AUC | accuracy |\n|---|---:|---:|---:|---:|---:|\n` +
      `| baseline: everything "high" | ${allHigh.toFixed(3)} | ${(positives / rows.length).toFixed(3)} | 1.000 | 0.500 | ${(positives / rows.length).toFixed(3)} |\n` +
      `| fastText-style, proxy labels | ${m.f1.toFixed(3)} | ${m.precision.toFixed(3)} | ${m.recall.toFixed(3)} | ${m.roc_auc.toFixed(3)} | ${m.accuracy.toFixed(3)} |\n\n`,
  );
}

const dir = await mkdtemp(join(tmpdir(), 'refinery-cls-bench-'));
const only = process.argv[2];
if (!only || only === 'f1') humanF1Bench();
if (!only || only === 'score') await scoringBench(dir);
else if (only === 'split') await splitBench(dir, corpus(sized(20_000, 300)).docs);
if (!only || only === 'train') await trainingBench(dir);
process.stdout.write(`Peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MB\n`);
await rm(dir, { recursive: true, force: true });
