import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Doc } from '../pipeline/doc.ts';
import { minhashDedupStage } from '../dedup/minhash-dedup.ts';
import { MinHasher, estimateJaccard } from '../dedup/minhash/signature.ts';
import { OnePermutationHasher } from '../dedup/minhash/one-permutation.ts';
import { bandKeys, candidateProbability } from '../dedup/minhash/bands.ts';
import { jaccard, shingleKeysOfWordHashes, shingleSet, shinglesOfWordHashes, wordShingles } from '../dedup/minhash/shingles.ts';
import { fmix32, mix32 } from '../pipeline/hash.ts';
import { normalizationSchema, normalizeText, wordsOf } from '../dedup/normalize-text.ts';
import { runGlobalStage } from './run-global-stage.ts';
import { chineseDocument, injectedCorpus, trueJaccard, type InjectedCorpus } from './dedup-corpus.ts';
import { mulberry32 } from '../pipeline/seeded-random.ts';

const NORM = normalizationSchema.parse({});
const shinglesOf = (text: string): Uint32Array => wordShingles(wordsOf(normalizeText(text, NORM)), 5);

/** Recall at J ≥ 0.8 and merge rate at J < 0.5 of the injected pairs, plus merges of unrelated originals, in a run's documents. */
function score(corpus: InjectedCorpus, docs: Doc[][]): { recall: number; high: number; falseRate: number; low: number; unrelatedMerged: number } {
  const byId = new Map<string, Doc>(docs.flat().map((d) => [d.id, d]));
  const together = (a: string, b: string): boolean => {
    const [x, y] = [byId.get(a)!.meta.dedup_cluster, byId.get(b)!.meta.dedup_cluster];
    return x !== undefined && x === y;
  };
  const high = corpus.pairs.filter((p) => p.jaccard >= 0.8);
  const low = corpus.pairs.filter((p) => p.jaccard < 0.5);
  const originalsPerCluster = new Map<unknown, number>();
  for (const d of byId.values()) if (d.id.startsWith('orig-') && d.meta.dedup_cluster !== undefined) originalsPerCluster.set(d.meta.dedup_cluster, (originalsPerCluster.get(d.meta.dedup_cluster) ?? 0) + 1);
  return {
    recall: high.filter((p) => together(p.a, p.b)).length / high.length,
    high: high.length,
    falseRate: low.filter((p) => together(p.a, p.b)).length / low.length,
    low: low.length,
    unrelatedMerged: [...originalsPerCluster.values()].filter((n) => n > 1).length,
  };
}

for (const hashing of ['one-permutation', 'independent'] as const) {
  test(`MinHash dedup (FineWeb bands, ${hashing} hashing, signature verification) finds >= 95% of injected pairs at Jaccard >= 0.8 and merges < 1% below 0.5`, async () => {
    const corpus = injectedCorpus(11, 600, 250, 0.14, 4);
    const { verdicts, docs, output } = await runGlobalStage(minhashDedupStage, { partitions: 4, hashing }, corpus.shards);
    const s = score(corpus, docs);
    assert.ok(s.high >= 100 && s.low >= 100, `enough pairs on both sides (${s.high} high, ${s.low} low)`);
    assert.ok(s.recall >= 0.95, `recall ${s.recall}`);
    assert.ok(s.falseRate < 0.01, `false merge rate ${s.falseRate}`);
    assert.equal(s.unrelatedMerged, 0);
    // Originals come first in every shard, so a removed document is always a copy and points at its original.
    for (const [i, shard] of docs.entries()) {
      shard.forEach((d, j) => {
        if (verdicts[i][j].keep) return;
        assert.ok(d.id.startsWith('copy-'));
        assert.equal(d.meta.duplicate_of, d.id.replace('copy-', 'orig-'));
      });
    }
    const stats = JSON.parse(await readFile(join(output, 'stats', 'minhash-dedup.json'), 'utf8'));
    assert.equal(stats.docs_in, 1200);
    assert.equal(stats.removed_docs, verdicts.flat().filter((v) => !v.keep).length);
    assert.equal(stats.settings.num_buckets, 14);
    assert.equal(stats.settings.hashing, hashing);
  });
}

test('without verification (FineWeb as published) the LSH also merges some pairs just below 0.5, as its S-curve predicts', async () => {
  const corpus = injectedCorpus(11, 600, 250, 0.14, 4);
  const { docs } = await runGlobalStage(minhashDedupStage, { partitions: 4, verification: { method: 'none' } }, corpus.shards);
  const s = score(corpus, docs);
  const expected = corpus.pairs.filter((p) => p.jaccard < 0.5).reduce((sum, p) => sum + candidateProbability(p.jaccard, 14, 8), 0) / s.low;
  assert.ok(s.recall >= 0.95);
  // Binomial sampling: within 4 standard deviations of the expected merge rate.
  assert.ok(Math.abs(s.falseRate - expected) <= 4 * Math.sqrt(expected / s.low) + 1e-9, `merged ${s.falseRate}, expected ${expected}`);
});

test('verification by true Jaccard removes the merges of pairs below the threshold', async () => {
  const corpus = injectedCorpus(12, 400, 200, 0.25, 3);
  const { docs } = await runGlobalStage(minhashDedupStage, { partitions: 2, verification: { method: 'jaccard', threshold: 0.7 } }, corpus.shards);
  const byId = new Map<string, Doc>(docs.flat().map((d) => [d.id, d]));
  for (const p of corpus.pairs) {
    const merged = byId.get(p.b)!.meta.duplicate_of === p.a;
    if (p.jaccard < 0.65) assert.equal(merged, false, `pair at J=${p.jaccard} merged`);
  }
  assert.ok(score(corpus, docs).recall >= 0.95);
});

test('verification by edit similarity merges short near-copies and not short different texts', async () => {
  const shards = [[
    { id: 'a', text: 'The quick brown fox jumps over the lazy dog near the river bank today.', meta: {} },
    { id: 'b', text: 'The quick brown fox jumps over the lazy dog near the river bank today!!', meta: {} },
    { id: 'c', text: 'A completely different sentence about installing software packages.', meta: {} },
  ]];
  const { verdicts } = await runGlobalStage(minhashDedupStage, { verification: { method: 'edit', threshold: 0.9 } }, shards);
  assert.deepEqual(verdicts[0].map((v) => v.keep), [true, false, true]);
});

for (const [name, hasher] of [['independent', new MinHasher(112, 1)], ['one-permutation', new OnePermutationHasher(112, 1)]] as const) test(`the MinHash Jaccard estimate (${name}) has the error of the theory, sqrt(J(1-J)/k)`, () => {
  const corpus = injectedCorpus(13, 300, 300, 0.3, 1);
  const texts = new Map(corpus.shards[0].map((d) => [d.id, d.text]));
  let err = 0;
  let theory = 0;
  for (const p of corpus.pairs) {
    const [a, b] = [shinglesOf(texts.get(p.a)!), shinglesOf(texts.get(p.b)!)];
    const j = jaccard(shingleSet(a), shingleSet(b));
    err += Math.abs(estimateJaccard(hasher.signature(a), hasher.signature(b)) - j);
    theory += Math.sqrt((2 / Math.PI) * (j * (1 - j)) / 112);
  }
  const n = corpus.pairs.length;
  // E|X − J| = sqrt(2/π)·σ for a binomial estimate; allow 15% sampling slack over 300 pairs.
  assert.ok(err / n <= (theory / n) * 1.15, `MAE ${err / n} vs theory ${theory / n}`);
});

test('the WebAssembly SIMD signature loop gives the scalar loop\'s signatures', () => {
  const random = mulberry32(5);
  for (const K of [4, 12, 112]) {
    const [simd, scalar] = [new MinHasher(K, 7), new MinHasher(K, 7, { simd: false })];
    for (let t = 0; t < 60; t++) {
      const shingles = new Uint32Array(2 * Math.floor(random() * (t < 30 ? 40 : 3000)));
      for (let i = 0; i < shingles.length; i++) shingles[i] = (random() * 2 ** 32) >>> 0;
      // Keys with few distinct bytes: many repeated keys and shared table rows.
      if (t % 3 === 0) for (let i = 0; i < shingles.length; i += 2) shingles[i] &= 0xff00ff0f;
      assert.deepEqual(simd.signature(shingles), scalar.signature(shingles), `K ${K}, ${shingles.length / 2} shingles`);
    }
  }
});

test('shingles are fmix32 of mix32 chains over the window\'s word hashes (hi: a then b, lo: b then a), and the keys are their hi halves', () => {
  const random = mulberry32(9);
  for (const [words, n] of [[0, 5], [3, 5], [5, 5], [40, 5], [40, 1], [40, 9]]) {
    const wa = Int32Array.from({ length: words }, () => (random() * 2 ** 32) | 0);
    const wb = Int32Array.from({ length: words }, () => (random() * 2 ** 32) | 0);
    const width = Math.min(n, words);
    const expected: number[] = [];
    for (let s = 0; words > 0 && s + width <= words; s++) {
      let [h1, h2] = [0x3c6ef372, 0x1b873593];
      for (let j = s; j < s + width; j++) [h1, h2] = [mix32(mix32(h1, wa[j]), wb[j]), mix32(mix32(h2, wb[j]), wa[j])];
      expected.push(fmix32(h1 ^ width), fmix32(h2 ^ (width * 0x9e3779b9)));
    }
    assert.deepEqual([...shinglesOfWordHashes(wa, wb, words, n)], expected);
    assert.deepEqual([...shingleKeysOfWordHashes(wa, wb, words, n)], expected.filter((_, i) => i % 2 === 0));
  }
});

test('shingle Jaccard from hashes equals Jaccard of the 5-gram strings', () => {
  const corpus = injectedCorpus(14, 50, 120, 0.3, 1);
  const texts = new Map(corpus.shards[0].map((d) => [d.id, d.text]));
  for (const p of corpus.pairs) {
    const j = jaccard(shingleSet(shinglesOf(texts.get(p.a)!)), shingleSet(shinglesOf(texts.get(p.b)!)));
    assert.ok(Math.abs(j - trueJaccard(texts.get(p.a)!, texts.get(p.b)!)) < 1e-9);
  }
});

test('band keys differ between bands and the candidate probability follows 1-(1-s^r)^b', () => {
  const sig = new Uint32Array(16).fill(7);
  const keys = bandKeys(sig, 2, 4);
  assert.notEqual(keys[0], keys[2]);
  assert.ok(Math.abs(candidateProbability(0.8, 14, 8) - 0.924) < 0.001);
});

test('Chinese near-duplicates (~800 characters, a few characters changed) are clustered: words come from the shared segmenter', async () => {
  const a = chineseDocument(7, 800);
  // Four characters replaced, spread over the document.
  const chars = [...a];
  for (const at of [100, 300, 500, 700]) chars[at] = chars[at] === '猫' ? '狗' : '猫';
  const b = chars.join('');
  assert.equal([...b].filter((c, i) => c !== [...a][i]).length, 4);
  const docs: Doc[] = [
    { id: 'zh-a', text: a, meta: {} },
    { id: 'zh-other', text: chineseDocument(8, 800), meta: {} },
    { id: 'zh-b', text: b, meta: {} },
  ];
  const { verdicts, docs: out } = await runGlobalStage(minhashDedupStage, { partitions: 2 }, [docs]);
  assert.deepEqual(verdicts[0].map((v) => v.keep), [true, true, false]);
  assert.equal(out[0][2].meta.duplicate_of, 'zh-a');
  assert.equal(out[0][1].meta.dedup_cluster, undefined);
});

test('normalisation keeps the marks of Thai and Japanese words (they are part of the word) and removes Latin accents', () => {
  assert.deepEqual(wordsOf(normalizeText('ภาษาไทยเป็นภาษาที่สวยงาม', NORM)), ['ภาษา', 'ไทย', 'เป็น', 'ภาษา', 'ที่', 'สวยงาม']);
  assert.ok(wordsOf(normalizeText('私は学生です。', NORM)).includes('です'));
  assert.deepEqual(wordsOf(normalizeText('Café NAÏVE, 2024!', NORM)), ['cafe', 'naive', '0000']);
  assert.deepEqual(wordsOf(normalizeText('Un café à Tokyo: 東京の喫茶店です', NORM)).slice(0, 4), ['un', 'cafe', 'a', 'tokyo']);
});
