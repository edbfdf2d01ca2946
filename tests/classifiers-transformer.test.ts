/**
 * Hugging Face sequence classifiers exported to ONNX (model.onnx + tokenizer.json + config.json),
 * scored through ONNX Runtime and @huggingface/tokenizers: the two tiny one-layer BERTs of
 * tests/fixtures/classifiers/tiny-transformer/ (made by its make-model.ts, with reference
 * outputs from a float64 forward pass computed when they were made). Scores must equal the
 * references to 1e-5 whatever the batching and padding.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openScorer, roundHalfEven } from '../classifiers/scorer.ts';
import { createQualityStage, qualityOptions } from '../classifiers/quality-stage.ts';
import type { StageContext } from '../pipeline/stage.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'classifiers', 'tiny-transformer');

interface Reference {
  max_length: number;
  texts: { text: string; ids: number[]; outputs: number[] }[];
}

async function reference(model: string): Promise<Reference> {
  return JSON.parse(await readFile(join(FIXTURES, model, 'reference.json'), 'utf8')) as Reference;
}

/** A copy of a fixture model with the given card.json. */
async function withCard(model: string, card: object): Promise<string> {
  const dir = join(await mkdtemp(join(tmpdir(), 'refinery-hf-')), model);
  await cp(join(FIXTURES, model), dir, { recursive: true });
  await writeFile(join(dir, 'card.json'), JSON.stringify(card));
  return dir;
}

function ctx(baseDir: string): StageContext {
  return { baseDir, outputDir: baseDir, workDir: baseDir, seed: 0, keyPath: 'stages[0]', files: folderFiles };
}

function assertClose(actual: ArrayLike<number>, expected: readonly number[], what: string): void {
  assert.equal(actual.length, expected.length, what);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= 1e-5, `${what}[${i}]: ${actual[i]} vs ${expected[i]}`);
}

test('FineWeb-Edu form: a regression BERT (pooler and head in the graph; task and labels from config.json) scores the reference to 1e-5, in one batch or many', async () => {
  const ref = await reference('edu-regression');
  const dir = await withCard('edu-regression', { format: 'hf-sequence-classification/1', max_length: ref.max_length });
  for (const batch of [1, 3, 16]) {
    await writeFile(join(dir, 'card.json'), JSON.stringify({ format: 'hf-sequence-classification/1', max_length: ref.max_length, batch_size: batch }));
    const scorer = await openScorer(dir);
    assert.equal(scorer.card.task, 'regression');
    assert.deepEqual(scorer.card.labels, ['score']);
    const scores = await scorer.score(ref.texts.map((t) => t.text));
    assertClose(scores, ref.texts.map((t) => t.outputs[0]!), `batch_size ${batch}`);
    await scorer.close();
  }
  // The longest text is cut to max_length keeping [SEP]: its reference was computed on the cut ids.
  assert.ok(ref.texts.some((t) => t.ids.length === ref.max_length && t.ids[t.ids.length - 1] === 3));
});

test('FineWeb-Edu form in the quality stage: meta.quality is the score, meta.quality_int its rounding into 0–5 (half to even), bands from the score cuts', async () => {
  const ref = await reference('edu-regression');
  const dir = await withCard('edu-regression', { format: 'hf-sequence-classification/1', max_length: ref.max_length, int_score: true, threshold: 3 });
  const stage = await createQualityStage(qualityOptions.parse({ model: dir, skip_code: false, threshold: 'card' }), ctx('/'));
  const docs = ref.texts.map((t, i) => ({ id: `d${i}`, text: t.text, meta: {} as Record<string, unknown> }));
  const verdicts = await stage.process(docs);
  docs.forEach((doc, i) => {
    const score = ref.texts[i]!.outputs[0]!;
    assert.ok(Math.abs((doc.meta.quality as number) - score) <= 1e-4 + 1e-9, `${doc.meta.quality} vs ${score}`);
    assert.equal(doc.meta.quality_int, Math.round(Math.max(0, Math.min(score, 5))));
    assert.equal(doc.meta.quality_band, score >= 3 ? 'high' : score >= 2 ? 'mid' : 'low');
    assert.equal(verdicts[i]!.keep, score >= 3);
  });
  assert.ok(new Set(docs.map((d) => d.meta.quality_int)).size >= 3, 'the references span several integer bands');
  await stage.close?.();
  assert.deepEqual([0.5, 1.5, 2.5, 3.49, 4.5, -0.5].map(roundHalfEven), [0, 2, 2, 3, 4, -0]);
});

test('pooling from the card: an encoder\'s last_hidden_state, mean-pooled over the mask, then the linear head of head.safetensors; labels from config.json', async () => {
  const ref = await reference('topic-mean-pool');
  const dir = await withCard('topic-mean-pool', { format: 'hf-sequence-classification/1', max_length: ref.max_length, pooling: 'mean', head: 'head.safetensors', batch_size: 4 });
  const scorer = await openScorer(dir);
  assert.deepEqual(scorer.card.labels, ['science', 'history', 'cooking']);
  assert.equal(scorer.card.task, 'multiclass');
  const scores = await scorer.score(ref.texts.map((t) => t.text));
  assertClose(scores, ref.texts.flatMap((t) => t.outputs), 'mean pooling');
  await scorer.close();

  const stage = await createQualityStage(qualityOptions.parse({ model: dir, field: 'category', skip_code: false }), ctx('/'));
  const docs = ref.texts.map((t, i) => ({ id: `d${i}`, text: t.text, meta: {} as Record<string, unknown> }));
  await stage.process(docs);
  docs.forEach((doc, i) => {
    const o = ref.texts[i]!.outputs;
    assert.equal(doc.meta.category, ['science', 'history', 'cooking'][o.indexOf(Math.max(...o))]);
  });
  await stage.close?.();
});

test('pooling without a head, or a head of the wrong shape, is refused naming the file', async () => {
  const dir = await withCard('topic-mean-pool', { format: 'hf-sequence-classification/1', pooling: 'cls' });
  await assert.rejects(openScorer(dir), /card\.json: pooling "cls" needs a head/);
  await writeFile(join(dir, 'card.json'), JSON.stringify({ format: 'hf-sequence-classification/1', pooling: 'cls', head: 'head.safetensors', labels: ['a', 'b'], task: 'binary' }));
  await assert.rejects(openScorer(dir), /head\.safetensors: the head needs weight \[2 × hidden\] and bias \[2\]/);
  await rm(join(dir, 'config.json'));
  await writeFile(join(dir, 'card.json'), JSON.stringify({ format: 'hf-sequence-classification/1' }));
  await assert.rejects(openScorer(dir), /card\.json: (task|labels)/);
});
