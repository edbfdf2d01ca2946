import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Doc } from '../pipeline/doc.ts';
import type { GlobalStage, StageContext } from '../pipeline/stage.ts';
import { tokenOutlierOptions, createTokenOutlier } from '../filters/token-outlier.ts';
import { fnv1aUnitHash } from '../pipeline/hash.ts';
import { BagCounter, buildReference, klDivergence, quantile, Tally, topWords, Vocabulary } from '../filters/token-outlier/distribution.ts';
import { mulberry32 as rng } from '../pipeline/seeded-random.ts';
import { stableJson } from '../pipeline/io/atomic.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';


const EN = 'the of and to in is was that for on with as by at from his her it an were which are this be has had not but one'.split(' ');
const DE = 'der die und in den von zu das mit sich des auf für ist im dem nicht ein eine als auch es an werden aus er hat'.split(' ');

/** Zipf-distributed words from `vocab` plus rarer made-up content words. */
function makeDoc(id: string, vocab: string[], r: () => number, language: string): Doc {
  const words: string[] = [];
  for (let i = 0; i < 120; i++) words.push(r() < 0.6 ? vocab[Math.floor(vocab.length * r() ** 2)]! : `word${Math.floor(400 * r() ** 2)}`);
  return { id, text: words.join(' '), meta: { language } };
}

async function* iterate(docs: Doc[]): AsyncIterable<Doc> {
  yield* docs;
}

async function runStage(stage: GlobalStage, shards: Doc[][]): Promise<Doc[]> {
  for (const [i, docs] of shards.entries()) await stage.map({ index: i, count: shards.length }, iterate(docs));
  await stage.reduce(0, shards.length);
  const out: Doc[] = [];
  for (const [i, docs] of shards.entries()) {
    const applier = await stage.applier({ index: i, count: shards.length });
    const copies = docs.map((d) => structuredClone(d));
    const vs = await applier.process(copies);
    copies.forEach((d, j) => (d.meta.verdict = vs[j]!.keep ? 'kept' : vs[j]!.rule));
    out.push(...copies);
  }
  return out;
}

async function context(): Promise<StageContext> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-kl-'));
  return { baseDir: dir, outputDir: join(dir, 'out'), workDir: join(dir, 'work'), seed: 7, keyPath: 'stages[0]', files: folderFiles };
}

function corpus(): Doc[][] {
  const r = rng(1);
  const shards: Doc[][] = [[], []];
  for (let i = 0; i < 1200; i++) shards[i % 2]!.push(makeDoc(`en-${i}`, EN, r, 'en'));
  for (let i = 0; i < 300; i++) shards[i % 2]!.push(makeDoc(`de-${i}`, DE, r, 'de'));
  // outliers: long runs of digits and random strings
  for (let i = 0; i < 6; i++) {
    shards[i % 2]!.push({ id: `junk-${i}`, text: Array.from({ length: 120 }, () => Math.floor(r() * 1e9).toString(36)).join(' '), meta: { language: 'en' } });
  }
  return shards;
}

/** Bag and reference of whitespace-separated words, through the stage's own counting. */
function reference(text: string, vocabSize: number, alpha: number) {
  const v = new Vocabulary();
  const tally = new Tally();
  tally.addBag(new BagCounter().bagOf(text.split(' '), (w) => v.idOf(w)));
  return { v, ref: buildReference(tally, v.words, vocabSize, alpha) };
}
function kl(words: string[], r: ReturnType<typeof reference>): number {
  const v = r.v;
  const bag = new BagCounter().bagOf(words, (w) => (v.find(w) === -1 ? v.size : v.find(w)));
  return klDivergence(bag, r.ref.logProb, r.ref.logProbOov);
}

test('distribution: KL is 0 for a document shaped like the reference and grows with outlying words', () => {
  const r = reference('a a b b c c', 10, 0.0001);
  assert.ok(Math.abs(kl(['a', 'b', 'c'], r)) < 1e-3);
  assert.ok(kl(['a', 'zzz', 'yyy'], r) > kl(['a', 'a', 'b'], r));
  assert.equal(quantile([1, 2, 3, 4, 5], 0.5), 3);
  assert.equal(quantile([0, 10], 0.995), 9.95);
});

test('distribution: words are counted lower-cased, the vocabulary is the most frequent words with ties by the word', () => {
  const v = new Vocabulary();
  const bag = new BagCounter().bagOf('The cat saw the CAT and THE dog'.split(' '), (w) => v.idOf(w));
  assert.deepEqual(v.words, ['the', 'cat', 'saw', 'and', 'dog']);
  assert.deepEqual([...bag.ids], [0, 1, 2, 3, 4]);
  assert.deepEqual([...bag.counts], [3, 2, 1, 1, 1]);
  assert.equal(v.find('Cat'), 1);
  assert.equal(v.find('bird'), -1);
  const tally = new Tally();
  tally.addBag(bag);
  assert.deepEqual(topWords(tally, v.words, 3).map((id) => v.words[id]), ['the', 'cat', 'and']);
});

test('distribution: words numbered but never counted (met only outside the reference sample) have count 0', () => {
  const words = Array.from({ length: 10_000 }, (_, i) => `w${i}`);
  const tally = new Tally();
  tally.add(0, 5);
  tally.add(1, 3);
  const ref = buildReference(tally, words, 100);
  assert.deepEqual(ref.vocab, [0, 1]);
  assert.equal(ref.logProbOov, Math.log(1 / 11));
  const kl = klDivergence({ ids: Int32Array.of(0, 9_999), counts: Int32Array.of(1, 1) }, ref.logProb, ref.logProbOov);
  assert.ok(Number.isFinite(kl) && kl >= 0, String(kl));
});

/** The definitions with string-keyed Maps, as the stage computed them before word ids. */
function textbookKl(docWords: string[], corpusWords: string[], vocabSize: number): number {
  const count = (ws: string[]) => {
    const m = new Map<string, number>();
    for (const w of ws) m.set(w.toLowerCase(), (m.get(w.toLowerCase()) ?? 0) + 1);
    return m;
  };
  const corpus = count(corpusWords);
  const top = [...corpus].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, vocabSize);
  const total = corpusWords.length;
  const inVocab = top.reduce((s, [, c]) => s + c, 0);
  const denom = total + top.length + 1;
  const logProb = new Map(top.map(([w, c]) => [w, Math.log((c + 1) / denom)]));
  const doc = count(docWords);
  const n = docWords.length;
  let kl = 0;
  let oov = 0;
  for (const [w, c] of doc) {
    const lq = logProb.get(w);
    if (lq === undefined) oov += c;
    else kl += (c / n) * (Math.log(c / n) - lq);
  }
  if (oov > 0) kl += (oov / n) * (Math.log(oov / n) - Math.log((total - inVocab + 1) / denom));
  return kl;
}

test('distribution: KL over word ids is bit-identical to the string-keyed definition', () => {
  const r = rng(5);
  const docs = Array.from({ length: 40 }, (_, i) => makeDoc(`d${i}`, i % 3 ? EN : DE, r, 'en').text.split(' ').map((w) => (r() < 0.2 ? w.toUpperCase() : w)));
  const corpusWords = docs.flat();
  const v = new Vocabulary();
  const tally = new Tally();
  const counter = new BagCounter();
  for (const d of docs) tally.addBag(counter.bagOf(d, (w) => v.idOf(w)));
  const ref = buildReference(tally, v.words, 60);
  for (const d of docs.slice(0, 10)) {
    const bag = counter.bagOf(d, (w) => v.idOf(w));
    assert.equal(klDivergence(bag, ref.logProb, ref.logProbOov), textbookKl(d, corpusWords, 60));
  }
});

test('token-outlier: drops the injected junk, about 0.5% per language, and keeps the minority language', async () => {
  const ctx = await context();
  const o = tokenOutlierOptions.parse({ min_sample_docs: 200 });
  const out = await runStage(createTokenOutlier(o, ctx), corpus());
  const dropped = out.filter((d) => d.meta.verdict !== 'kept');
  for (const d of out.filter((d) => d.id.startsWith('junk-'))) assert.equal(d.meta.verdict, 'kl_divergence', d.id);
  const de = out.filter((d) => d.id.startsWith('de-'));
  const deDropped = de.filter((d) => d.meta.verdict !== 'kept').length;
  assert.ok(deDropped <= 3, `German judged against its own reference: ${deDropped} dropped`);
  assert.ok(dropped.length <= 6 + 12, `${dropped.length} dropped`);
  const kept = out.find((d) => d.meta.verdict === 'kept')!;
  const m = kept.meta.token_outlier as { kl: number; threshold: number };
  assert.ok(m.kl > 0 && m.threshold > m.kl);
  const stats = JSON.parse(await readFile(join(ctx.outputDir, 'stats', 'token-outlier.json'), 'utf8')) as { languages: Record<string, { sample_docs: number }> };
  assert.equal(stats.languages.de!.sample_docs, 300);
});

test('token-outlier: the reference is the same whatever the order shards are mapped in; too few docs means no drops', async () => {
  const a = await context();
  const b = await context();
  const o = tokenOutlierOptions.parse({ min_sample_docs: 200 });
  const shards = corpus();
  const sa = createTokenOutlier(o, a);
  await sa.map({ index: 0, count: 2 }, iterate(shards[0]!));
  await sa.map({ index: 1, count: 2 }, iterate(shards[1]!));
  await sa.reduce(0, 2);
  const sb = createTokenOutlier(o, b);
  await sb.map({ index: 1, count: 2 }, iterate(shards[1]!));
  await sb.map({ index: 0, count: 2 }, iterate(shards[0]!));
  await sb.reduce(0, 2);
  assert.equal(await readFile(join(a.workDir, 'reference.json'), 'utf8'), await readFile(join(b.workDir, 'reference.json'), 'utf8'));
  const written = await readFile(join(a.workDir, 'reference.json'), 'utf8');
  assert.equal(written, stableJson(JSON.parse(written), 0), 'keys in sorted order');

  const small = await runStage(createTokenOutlier(tokenOutlierOptions.parse({ min_sample_docs: 2000 }), await context()), corpus());
  assert.ok(small.every((d) => d.meta.verdict === 'kept'), 'under min_sample_docs per language: annotate only');
  assert.equal((small[0]!.meta.token_outlier as { threshold: unknown }).threshold, null);
});

test('the filters\' seeded hash has its own name (mixes/sampler.ts unitHash is another algorithm with (seed, text))', () => {
  const a = fnv1aUnitHash('doc-1', 7);
  assert.equal(fnv1aUnitHash('doc-1', 7), a);
  assert.notEqual(fnv1aUnitHash('doc-1', 8), a);
  assert.ok(a >= 0 && a < 1);
  const bins = new Array<number>(10).fill(0);
  for (let i = 0; i < 10_000; i++) bins[Math.floor(fnv1aUnitHash(`doc-${i}`, 3) * 10)]!++;
  assert.ok(bins.every((b) => b > 900 && b < 1100), bins.join(','));
});

test('token-outlier: apply gives the same verdicts and KL from map\'s counts, when a batch is retried one document at a time, and without them', async () => {
  const ctx = await context();
  const stage = createTokenOutlier(tokenOutlierOptions.parse({ min_sample_docs: 200 }), ctx);
  const shards = corpus();
  const out = await runStage(stage, shards);
  const verdicts = (docs: Doc[]) => docs.map((d) => JSON.stringify([d.id, d.meta.token_outlier, d.meta.verdict]));

  // The runner retries a failed batch document by document: the applier has already read past them.
  const applier = await stage.applier({ index: 0, count: 2 });
  const batch = shards[0]!.map((d) => structuredClone(d));
  await applier.process(batch);
  const retried = shards[0]!.map((d) => structuredClone(d));
  for (const d of retried) d.meta.verdict = (await applier.process([d]))[0]!.keep ? 'kept' : 'kl_divergence';
  await applier.close?.();
  assert.deepEqual(verdicts(retried), verdicts(out.slice(0, shards[0]!.length)));

  // Without the bag files (every document split again): the same annotations.
  for (const i of [0, 1]) await rm(join(ctx.workDir, 'map', `shard-0000${i}.bags`));
  const again: Doc[] = [];
  for (const [i, docs] of shards.entries()) {
    const a = await stage.applier({ index: i, count: 2 });
    const copies = docs.map((d) => structuredClone(d));
    const vs = await a.process(copies);
    copies.forEach((d, j) => (d.meta.verdict = vs[j]!.keep ? 'kept' : vs[j]!.rule));
    again.push(...copies);
  }
  assert.deepEqual(verdicts(again), verdicts(out));
  assert.ok(out.some((d) => d.meta.verdict === 'kl_divergence'));
});
