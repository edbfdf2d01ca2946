import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainFromLabels } from '../classifiers/training-run.ts';
import { SeededRandom } from '../pipeline/seeded-random.ts';
import type { BinaryMetrics, ClassificationBaselines } from '../classifiers/metrics.ts';

const SIGNAL = { spam: ['offer', 'free', 'winner', 'credit', 'cash', 'click'], ham: ['meeting', 'patch', 'thanks', 'review', 'build', 'lunch'] };
const FILLER = ['the', 'a', 'of', 'and', 'to', 'in', 'is', 'you', 'for', 'on', 'it', 'with', 'this', 'that', 'we', 'be'];

/** Short messages, 40% spam, in which only one word in eight says which class it is. */
async function labelsFile(n: number, seed: number): Promise<string> {
  const rng = new SeededRandom(seed);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const label = rng.next() < 0.4 ? 'spam' : 'ham';
    const words = Array.from({ length: 20 + rng.int(20) }, () => {
      const pool = rng.next() < 0.12 ? SIGNAL[label] : FILLER;
      return pool[rng.int(pool.length)]!;
    });
    lines.push(JSON.stringify({ id: `m${i}`, text: words.join(' '), label }));
  }
  const dir = await mkdtemp(join(tmpdir(), 'refinery-autotune-'));
  await writeFile(join(dir, 'labels.jsonl'), lines.join('\n') + '\n');
  return join(dir, 'labels.jsonl');
}

const SHAPE = { buckets: 4096, seed: 1, autotune_seconds: 3 };

test('autotune: the searched settings beat the fixed defaults on held-out data; the card lists the search; the same seed gives the same bytes', async () => {
  const file = await labelsFile(400, 3);
  const dir = join(file, '..');
  const fixed = await trainFromLabels(file, join(dir, 'fixed'), { ...SHAPE, autotune_seconds: 0 });
  const tuned = await trainFromLabels(file, join(dir, 'tuned'), SHAPE);
  const f1 = (m: Record<string, unknown>) => (m.test as BinaryMetrics).f1;
  assert.ok(f1(tuned.metrics) >= f1(fixed.metrics) + 0.05, `autotuned F1 ${f1(tuned.metrics)} vs defaults ${f1(fixed.metrics)}`);

  const search = tuned.card.training.autotune as { searched: string[]; trials: unknown[]; start: { objective: number }; best: { objective: number; epochs: number } };
  assert.deepEqual(search.searched, ['epochs', 'lr', 'word_ngrams', 'dim']);
  assert.ok(search.trials.length > 1);
  assert.ok(search.best.objective > search.start.objective);
  assert.equal(tuned.card.training.epochs, search.best.epochs);
  assert.match(tuned.summary.join('\n'), /autotune: \d+ candidates/);

  const again = await trainFromLabels(file, join(dir, 'again'), SHAPE);
  assert.equal(await readFile(join(dir, 'again', 'card.json'), 'utf8'), await readFile(join(dir, 'tuned', 'card.json'), 'utf8'));
  assert.deepEqual(await readFile(join(dir, 'again', 'model.onnx')), await readFile(join(dir, 'tuned', 'model.onnx')));
  assert.equal(again.card.training.epochs, tuned.card.training.epochs);
});

test('autotune leaves the settings the user gave alone', async () => {
  const file = await labelsFile(200, 4);
  const result = await trainFromLabels(file, join(file, '..', 'm'), { ...SHAPE, epochs: 7, dim: 8 });
  const search = result.card.training.autotune as { searched: string[]; trials: { epochs: number; dim: number }[] };
  assert.deepEqual(search.searched, ['lr', 'word_ngrams']);
  for (const t of search.trials) assert.deepEqual([t.epochs, t.dim], [7, 8]);
  assert.equal(result.card.model.dim, 8);
});

test('metrics report the baselines, and train warns when the model does not clearly beat them', async () => {
  // Labels independent of the text: nothing to learn.
  const rng = new SeededRandom(9);
  const lines = Array.from({ length: 200 }, (_, i) => JSON.stringify({ id: `n${i}`, text: FILLER.slice(0, 5 + rng.int(10)).join(' '), label: rng.next() < 0.7 ? 1 : 0 }));
  const dir = await mkdtemp(join(tmpdir(), 'refinery-autotune-'));
  await writeFile(join(dir, 'labels.jsonl'), lines.join('\n') + '\n');
  const result = await trainFromLabels(join(dir, 'labels.jsonl'), join(dir, 'm'), { ...SHAPE, autotune_seconds: 0 });
  const baselines = result.metrics.baselines as ClassificationBaselines;
  const test = result.metrics.test as BinaryMetrics;
  const positives = test.confusion[1]!.reduce((a, b) => a + b, 0);
  const share = positives / test.examples;
  assert.ok(Math.abs(baselines.all_positive!.f1 - (2 * share) / (1 + share)) < 1e-12);
  assert.equal(baselines.majority_class.label, '1');
  assert.ok(result.warnings.some((w) => /does not beat the baseline F1/.test(w)), result.warnings.join('\n'));
  assert.match(result.summary.join('\n'), /baselines: every document positive F1=/);
  const card = JSON.parse(await readFile(join(dir, 'm', 'card.json'), 'utf8')) as { metrics: { baselines: unknown } };
  assert.deepEqual(card.metrics.baselines, baselines);
});
