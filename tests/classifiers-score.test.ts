import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { createQualityStage, qualityOptions } from '../classifiers/quality-stage.ts';
import { bandOf } from '../classifiers/bands.ts';
import { trainFromLabels } from '../classifiers/training-run.ts';
import { openScorer } from '../classifiers/scorer.ts';
import { OnnxGraphBuilder } from '../pipeline/onnx/builder.ts';
import type { Doc } from '../pipeline/doc.ts';
import type { StageContext } from '../pipeline/stage.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';
import { wordPieceTokenizerJson } from './fixtures/classifiers/wordpiece-tokenizer.ts';

const GOOD = 'the method is explained with care and every step of the proof follows from the one before it';
const BAD = 'click here buy now cheap deals free offer click here buy now best price sale sale';

async function trainedModel(labels: (i: number) => string | number, text: (i: number) => string, n = 80): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-score-'));
  const file = join(dir, 'labels.jsonl');
  await writeFile(file, Array.from({ length: n }, (_, i) => JSON.stringify({ id: `d${i}`, text: text(i), label: labels(i) })).join('\n') + '\n');
  await trainFromLabels(file, join(dir, 'model'), { buckets: 2048, dim: 8, epochs: 30, lr: 0.5, seed: 1 });
  return dir;
}

function ctx(baseDir: string): StageContext {
  return { baseDir, outputDir: baseDir, workDir: baseDir, seed: 0, keyPath: 'stages[0]', files: folderFiles };
}

function docs(texts: string[]): Doc[] {
  return texts.map((text, i) => ({ id: `x${i}`, text, meta: {} }));
}

test('bands: a cut point belongs to the band above it', () => {
  assert.equal(bandOf(0.1, [0.25, 0.5], ['low', 'mid', 'high']), 'low');
  assert.equal(bandOf(0.25, [0.25, 0.5], ['low', 'mid', 'high']), 'mid');
  assert.equal(bandOf(0.9, [0.25, 0.5], ['low', 'mid', 'high']), 'high');
});

test('quality stage annotates meta.quality and meta.quality_band and keeps everything unless a threshold is set', async () => {
  const dir = await trainedModel((i) => i % 2, (i) => (i % 2 ? `${GOOD} ${i}` : `${BAD} ${i}`));
  const annotate = await createQualityStage(qualityOptions.parse({ model: 'model' }), ctx(dir));
  assert.equal(annotate.kind, 'annotator');
  assert.equal(annotate.batchSize, 256);
  const batch = docs([GOOD, BAD, `${GOOD}. ${GOOD}`]);
  const verdicts = await annotate.process(batch);
  assert.deepEqual(verdicts.map((v) => v.keep), [true, true, true]);
  assert.ok((batch[0]!.meta.quality as number) > 0.8 && (batch[1]!.meta.quality as number) < 0.2, JSON.stringify(batch.map((d) => d.meta)));
  assert.equal(batch[0]!.meta.quality_band, 'high');
  assert.equal(batch[1]!.meta.quality_band, 'low');
  await annotate.close?.();

  const filter = await createQualityStage(qualityOptions.parse({ model: join(dir, 'model'), threshold: 'card', field: 'q', band_cuts: [0.5], band_names: ['no', 'yes'] }), ctx('/'));
  assert.equal(filter.kind, 'filter');
  const b2 = docs([GOOD, BAD]);
  const v2 = await filter.process(b2);
  assert.deepEqual(v2[0], { keep: true });
  assert.equal(v2[1]!.keep, false);
  assert.equal(!v2[1]!.keep && v2[1]!.rule, 'below_threshold');
  assert.deepEqual([b2[0]!.meta.q_band, b2[1]!.meta.q_band], ['yes', 'no']);
  await filter.close?.();

  await assert.rejects(createQualityStage(qualityOptions.parse({ model: 'model', band_cuts: [0.2, 0.4, 0.6] }), ctx(dir)), /stages\[0\]\.options\.band_names: 3 cut points need 4 band names/);
  await assert.rejects(createQualityStage(qualityOptions.parse({ model: 'nowhere' }), ctx(dir)), /nowhere\/card\.json: no model card/);
});

test('quality stage leaves source code unscored by default (text/code-detection.ts), and scores it with skip_code: false', async () => {
  const dir = await trainedModel((i) => i % 2, (i) => (i % 2 ? `${GOOD} ${i}` : `${BAD} ${i}`));
  const code = 'import sys\n\ndef main(argv):\n    for arg in argv[1:]:\n        print(arg)\n    return 0\n';
  const stage = await createQualityStage(qualityOptions.parse({ model: 'model', threshold: 'card' }), ctx(dir));
  const batch = [...docs([GOOD, code, BAD]), { id: 'c', text: GOOD, meta: { category: 'code' } }];
  const verdicts = await stage.process(batch);
  assert.deepEqual(verdicts.map((v) => v.keep), [true, true, false, true]);
  assert.ok((batch[0]!.meta.quality as number) > 0.8);
  assert.equal(batch[1]!.meta.quality, undefined);
  assert.equal(batch[1]!.meta.quality_band, undefined);
  assert.equal(batch[3]!.meta.quality, undefined, 'meta.category code is code');
  await stage.close?.();

  const all = await createQualityStage(qualityOptions.parse({ model: 'model', skip_code: false }), ctx(dir));
  const b2 = docs([code]);
  await all.process(b2);
  assert.equal(typeof b2[0]!.meta.quality, 'number');
  assert.equal(typeof b2[0]!.meta.quality_band, 'string');
  await all.close?.();
});

test('a topic model writes meta.category with its probability and can keep chosen classes', async () => {
  const topics = ['cooking', 'science', 'sport'];
  const words = ['oven flour butter recipe garlic sauce', 'atom energy cell molecule photon orbit', 'match goal team coach league referee'];
  const dir = await trainedModel((i) => topics[i % 3]!, (i) => `${words[i % 3]} and the ${i}`, 90);
  const stage = await createQualityStage(qualityOptions.parse({ model: 'model', field: 'category', keep_labels: ['science', 'sport'] }), ctx(dir));
  const batch = docs(['the oven and the flour', 'a photon hits an atom', 'the coach of the team']);
  const v = await stage.process(batch);
  assert.deepEqual(batch.map((d) => d.meta.category), ['cooking', 'science', 'sport']);
  assert.ok(batch.every((d) => typeof d.meta.category_score === 'number' && (d.meta.category_score as number) > 1 / 3));
  assert.deepEqual(v.map((x) => x.keep), [false, true, true]);
  await stage.close?.();
  await assert.rejects(createQualityStage(qualityOptions.parse({ model: 'model', threshold: 0.5 }), ctx(dir)), /multi-class model is filtered with keep_labels/);
});

/** A WordPiece (BERT-style) tokenizer.json with a 12-token vocabulary. */
function tinyBertTokenizer(): object {
  return wordPieceTokenizerJson(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'good', 'bad', 'text', 'very', '##ly', 'the', 'is', '.']);
}

test('bring-your-own model: a Hugging Face-style classifier with tokenizer.json is scored with padding, masking and truncation', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-byo-'));
  // Logit of "positive" = masked mean over tokens of a per-token weight; "negative" = 0.
  const tokenWeight = [0, 0, 0.5, 0.5, 4, -4, 0, 1, 1, 0, 0, 0];
  const g = new OnnxGraphBuilder('tiny_bert');
  g.input('input_ids', 'int64', ['batch', 'seq']);
  g.input('attention_mask', 'int64', ['batch', 'seq']);
  g.initializer('w', 'float32', [12, 2], tokenWeight.flatMap((v) => [0, v]));
  g.initializer('one_axis', 'int64', [1], [1]);
  g.initializer('last', 'int64', [1], [-1]);
  const [rows] = g.node('Gather', ['w', 'input_ids'], 1, { axis: { int: 0 } });
  const [maskF] = g.node('Cast', ['attention_mask'], 1, { to: { int: 1 } });
  const [mask3] = g.node('Unsqueeze', [maskF!, 'last'], 1);
  const [masked] = g.node('Mul', [rows!, mask3!], 1);
  const [sum] = g.node('ReduceSum', [masked!, 'one_axis'], 1, { keepdims: { int: 0 } });
  const [count] = g.node('ReduceSum', [maskF!, 'one_axis'], 1, { keepdims: { int: 1 } });
  g.node('Div', [sum!, count!], ['logits']);
  g.output('logits', 'float32', ['batch', 2]);
  await writeFile(join(dir, 'model.onnx'), g.toBytes({ opset: 17 }));
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tinyBertTokenizer()));
  await writeFile(join(dir, 'card.json'), JSON.stringify({ format: 'hf-sequence-classification/1', task: 'binary', labels: ['low', 'high'], positive_label: 'high', threshold: 0.5, max_length: 6 }));

  const tok = new Tokenizer(tinyBertTokenizer(), {});
  assert.deepEqual(tok.encode('Very goodly text.').ids, [2, 7, 4, 8, 6, 11, 3]);

  const scorer = await openScorer(dir);
  const texts = ['good text', 'bad', 'Very goodly text. The text is good'];
  const scores = await scorer.score(texts);
  const expected = (ids: number[]) => {
    const z = ids.reduce((s, id) => s + tokenWeight[id]!, 0) / ids.length;
    return 1 / (1 + Math.exp(-z)); // softmax of [0, z]
  };
  // The third text is cut to 6 tokens: [CLS] very good ##ly text [SEP].
  const ids = [[2, 4, 6, 3], [2, 5, 3], [2, 7, 4, 8, 6, 3]];
  ids.forEach((row, r) => assert.ok(Math.abs(scores[r * 2 + 1]! - expected(row)) < 1e-6, `text ${r}: ${scores[r * 2 + 1]} vs ${expected(row)}`));
  await scorer.close();

  const stage = await createQualityStage(qualityOptions.parse({ model: dir, threshold: 'card' }), ctx('/'));
  const batch = docs(texts);
  const v = await stage.process(batch);
  assert.deepEqual(v.map((x) => x.keep), [true, false, true]);
  await stage.close?.();
});

test('bring-your-own binary model with one logit and a sigmoid; a card whose positive label is not a label is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-byo1-'));
  const g = new OnnxGraphBuilder('one_logit');
  g.input('input_ids', 'int64', ['batch', 'seq']);
  g.input('attention_mask', 'int64', ['batch', 'seq']);
  g.initializer('w', 'float32', [12, 1], [0, 0, 0, 0, 3, -3, 0, 0, 0, 0, 0, 0]);
  g.initializer('one_axis', 'int64', [1], [1]);
  const [rows] = g.node('Gather', ['w', 'input_ids'], 1, { axis: { int: 0 } });
  g.node('ReduceSum', [rows!, 'one_axis'], ['logits'], { keepdims: { int: 0 } });
  g.output('logits', 'float32', ['batch', 1]);
  await writeFile(join(dir, 'model.onnx'), g.toBytes());
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(tinyBertTokenizer()));
  await writeFile(join(dir, 'card.json'), JSON.stringify({ format: 'hf-sequence-classification/1', task: 'binary', labels: ['bad', 'good'], positive_label: 'good', activation: 'sigmoid' }));
  const stage = await createQualityStage(qualityOptions.parse({ model: dir }), ctx('/'));
  const batch = docs(['good', 'bad bad']);
  await stage.process(batch);
  assert.equal(batch[0]!.meta.quality, Math.round((1 / (1 + Math.exp(-3))) * 1e6) / 1e6);
  assert.equal(batch[1]!.meta.quality, Math.round((1 / (1 + Math.exp(6))) * 1e6) / 1e6);
  await stage.close?.();
  await writeFile(join(dir, 'card.json'), JSON.stringify({ format: 'hf-sequence-classification/1', task: 'binary', labels: ['bad', 'good'], positive_label: 'great' }));
  await assert.rejects(createQualityStage(qualityOptions.parse({ model: dir }), ctx('/')), /needs two labels and a positive_label among them/);
});
