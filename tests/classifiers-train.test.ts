import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FeatureHasher, FeatureOptions } from '../classifiers/fasttext/features.ts';
import { fastTextFeeds } from '../classifiers/fasttext/export-onnx.ts';
import { trainFromLabels } from '../classifiers/training-run.ts';
import { openScorer } from '../classifiers/scorer.ts';
import { SeededRandom } from '../pipeline/seeded-random.ts';

const TOPICS = {
  science: ['atom', 'energy', 'cell', 'experiment', 'molecule', 'gravity', 'orbit', 'photon'],
  sport: ['match', 'goal', 'team', 'coach', 'season', 'league', 'striker', 'referee'],
  cooking: ['oven', 'flour', 'recipe', 'butter', 'simmer', 'garlic', 'sauce', 'dough'],
};
const FILLER = ['the', 'a', 'of', 'and', 'with', 'in', 'for', 'was', 'is', 'then', 'when', 'this'];

/** Seeded sentences about a topic: topic words among filler, with punctuation. */
function makeText(rng: SeededRandom, topic: keyof typeof TOPICS, words: number): string {
  const out: string[] = [];
  for (let i = 0; i < words; i++) {
    const pool = rng.next() < 0.35 ? TOPICS[topic] : FILLER;
    out.push(pool[rng.int(pool.length)]!);
    if (i % 9 === 8) out[out.length - 1] += '.';
  }
  return out.join(' ');
}

async function writeLabels(rows: { id: string; text: string; label: string | number }[]): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-cls-'));
  const file = join(dir, 'labels.jsonl');
  await writeFile(file, rows.map((r) => JSON.stringify(r)).join('\n') + '\n');
  return file;
}

async function assertOnnxMatchesTypeScript(modelDir: string, texts: string[], predict: (ids: Int32Array) => Float64Array): Promise<void> {
  const scorer = await openScorer(modelDir);
  const hasher = new FeatureHasher(scorer.card.format === 'refinery-fasttext/1' ? scorer.card.features : FeatureOptions.parse({}));
  const onnx = await scorer.score(texts);
  const k = scorer.outputs;
  let worst = 0;
  texts.forEach((t, r) => {
    const ts = predict(hasher.features(t));
    for (let c = 0; c < k; c++) worst = Math.max(worst, Math.abs(ts[c]! - onnx[r * k + c]!));
  });
  assert.ok(worst <= 1e-5, `largest difference between ONNX Runtime and TypeScript: ${worst}`);
  await scorer.close();
}

test('features: repeats count, n-grams and char n-grams are hashed into buckets, an empty text still has </s>', () => {
  const h = new FeatureHasher(FeatureOptions.parse({ buckets: 1024, minn: 0, maxn: 0, word_ngrams: 2 }));
  const one = h.features('Hello');
  assert.equal(one.length, 2); // word + </s>
  const two = h.features('hello hello');
  assert.equal(two.length, 4); // 2 words + 1 bigram + </s>
  assert.equal(two[0], two[1]); // "Hello" lower-cased = "hello"
  assert.equal(h.features('').length, 1);
  const sub = new FeatureHasher(FeatureOptions.parse({ buckets: 1024, minn: 3, maxn: 3, word_ngrams: 1 })).features('cat');
  // "<cat>" has 3 trigrams: <ca, cat, at>; plus the word and </s>
  assert.equal(sub.length, 5);
  for (const id of h.features('Ünïcode, text! 42 times')) assert.ok(id >= 0 && id < 1024);
  assert.deepEqual(h.features('same text'), new FeatureHasher(h.options).features('same text'));
});

test('fastTextFeeds flattens a batch: ids, the document of each id, and 1/count weights', () => {
  const f = fastTextFeeds([Int32Array.from([5, 6]), Int32Array.from([7])]);
  assert.deepEqual([...f.ids], [5, 6, 7]);
  assert.deepEqual([...f.bag], [0, 0, 1]);
  assert.deepEqual([...f.weights], [0.5, 0.5, 1]);
});

test('binary: trains, picks a threshold, writes card + metrics, and ONNX Runtime matches the TypeScript model to 1e-5', async () => {
  const rng = new SeededRandom(7);
  const rows = Array.from({ length: 300 }, (_, i) => {
    const good = i % 2 === 0;
    return { id: `d${i}`, text: makeText(rng, good ? 'science' : 'sport', 40 + rng.int(40)), label: good ? 1 : 0 };
  });
  const file = await writeLabels(rows);
  const out = join(file, '..', 'model');
  const result = await trainFromLabels(file, out, { buckets: 4096, dim: 8, epochs: 5, seed: 3, minn: 3, maxn: 5 });
  const card = JSON.parse(await readFile(join(out, 'card.json'), 'utf8'));
  const metrics = JSON.parse(await readFile(join(out, 'metrics.json'), 'utf8'));
  assert.equal(card.task, 'binary');
  assert.deepEqual(card.labels, ['0', '1']);
  assert.equal(card.positive_label, '1');
  assert.equal(typeof card.threshold, 'number');
  assert.match(card.training.data_sha256, /^[0-9a-f]{64}$/);
  assert.equal(card.training.train + card.training.validation + card.training.test, 300);
  assert.equal(metrics.test.examples, 60);
  assert.ok(metrics.test.f1 > 0.9, `held-out F1 ${metrics.test.f1}`);
  assert.equal(metrics.test.confusion.flat().reduce((a: number, b: number) => a + b, 0), 60);
  const texts = Array.from({ length: 50 }, (_, i) => makeText(rng, i % 2 ? 'science' : 'cooking', 5 + i * 3)).concat(['', '!!!']);
  await assertOnnxMatchesTypeScript(out, texts, (ids) => result.model.predict(ids));
});

test('the same labels and seed give byte-identical model files', async () => {
  const rng = new SeededRandom(1);
  const rows = Array.from({ length: 60 }, (_, i) => ({ id: `d${i}`, text: makeText(rng, i % 2 ? 'science' : 'sport', 30), label: i % 2 ? 'good' : 'bad' }));
  const file = await writeLabels(rows);
  const a = join(file, '..', 'a');
  const b = join(file, '..', 'b');
  await trainFromLabels(file, a, { buckets: 1024, dim: 4, seed: 5 });
  await trainFromLabels(file, b, { buckets: 1024, dim: 4, seed: 5 });
  for (const f of ['model.onnx', 'card.json', 'metrics.json']) assert.deepEqual(await readFile(join(a, f)), await readFile(join(b, f)), f);
  assert.deepEqual(JSON.parse(await readFile(join(a, 'card.json'), 'utf8')).labels, ['bad', 'good']);
});

test('multi-class with a hidden layer: topic classes learnt, ONNX matches TypeScript', async () => {
  const rng = new SeededRandom(11);
  const names = Object.keys(TOPICS) as (keyof typeof TOPICS)[];
  const rows = Array.from({ length: 240 }, (_, i) => ({ id: `t${i}`, text: makeText(rng, names[i % 3]!, 50), label: names[i % 3]! }));
  const file = await writeLabels(rows);
  const out = join(file, '..', 'topic');
  const result = await trainFromLabels(file, out, { buckets: 4096, dim: 8, hidden: 8, epochs: 30, seed: 2 });
  assert.equal(result.card.task, 'multiclass');
  assert.deepEqual(result.card.labels, ['cooking', 'science', 'sport']);
  const m = result.metrics.test as { accuracy: number; confusion: number[][] };
  assert.ok(m.accuracy > 0.9, `accuracy ${m.accuracy}`);
  assert.equal(m.confusion.length, 3);
  await assertOnnxMatchesTypeScript(out, rows.slice(0, 30).map((r) => r.text), (ids) => result.model.predict(ids));
});

test('regression on 0–5 scores: correlation reported with F1 at 3, ONNX matches TypeScript', async () => {
  const rng = new SeededRandom(5);
  // The score is the number of science words in 20 (0..5 by fifths of the text): learnable.
  const rows = Array.from({ length: 240 }, (_, i) => {
    const score = i % 6;
    const words: string[] = [];
    for (let w = 0; w < 30; w++) words.push(w < score * 6 ? TOPICS.science[rng.int(8)]! : FILLER[rng.int(12)]!);
    return { id: `r${i}`, text: rng.shuffle(words).join(' '), label: score };
  });
  const file = await writeLabels(rows);
  const out = join(file, '..', 'edu');
  const result = await trainFromLabels(file, out, { buckets: 4096, dim: 8, epochs: 20, seed: 4, minn: 0 });
  assert.equal(result.card.task, 'regression');
  assert.equal(result.card.threshold, 3);
  const m = result.metrics.test as { pearson: number; binary_at_threshold: { f1: number } };
  assert.ok(m.pearson > 0.8, `pearson ${m.pearson}`);
  assert.ok(m.binary_at_threshold.f1 > 0.8);
  await assertOnnxMatchesTypeScript(out, rows.slice(0, 30).map((r) => r.text), (ids) => result.model.predict(ids));
});

test('unlabelled lines (label null) are skipped and counted; too few labels is an error naming the file', async () => {
  const rng = new SeededRandom(2);
  const rows: { id: string; text: string; label: string | number | null }[] = Array.from({ length: 40 }, (_, i) => ({ id: `u${i}`, text: makeText(rng, 'sport', 20), label: i % 2 }));
  rows.push({ id: 'x', text: 'no answer', label: null });
  const file = await writeLabels(rows as { id: string; text: string; label: number }[]);
  const res = await trainFromLabels(file, join(file, '..', 'm'), { buckets: 1024, dim: 4 });
  assert.equal(res.card.training.skipped_without_label, 1);
  const few = await writeLabels([{ id: 'a', text: 'x', label: 1 }]);
  await assert.rejects(trainFromLabels(few, join(few, '..', 'm')), /labels\.jsonl: only 1 usable labelled documents/);
});
