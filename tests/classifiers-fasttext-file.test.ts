/**
 * fastText model files (`.bin`, `.ftz`) read and run by our own inference
 * (classifiers/fasttext-file/), against the reference: the fasttext.wasm.js build of fastText's
 * C++, which the project keeps as a dependency. The models were trained by fastText itself
 * (tests/fixtures/classifiers/fasttext/make-models.sh) on the sample corpus; the texts here are the
 * documents that script held out, and some made to reach the tokenizer's corners. Labels, their
 * order and the float32 probabilities must be the same, bit for bit.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, mkdir, copyFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { getFastTextClass, getFastTextModule } from 'fasttext.wasm.js';
import { readFtz } from '../filters/langid/ftz-format.ts';
import { FastTextSupervisedModel, type FastTextPrediction } from '../classifiers/fasttext-file/supervised-model.ts';
import { createQualityStage, qualityOptions } from '../classifiers/quality-stage.ts';
import type { StageContext } from '../pipeline/stage.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';
import { referencePredictions, type ReferenceModel } from './fasttext-reference.ts';
import { sampleTexts } from './sample-corpus.ts';

const FIXTURES = join(import.meta.dirname, 'fixtures', 'classifiers', 'fasttext');
const MODELS = ['spam-softmax.bin', 'lang-ova.bin', 'lang-ns.bin', 'spam-hs.ftz'] as const;

type FastTextClass = new () => { loadModel(url: string): Promise<ReferenceModel> };

/** Each model in a wasm module of its own (one module holds one model file). */
async function referenceModel(file: string): Promise<ReferenceModel> {
  const FastText = (await (getFastTextClass as unknown as (o: { getFastTextModule: () => Promise<unknown> }) => Promise<FastTextClass>)({
    getFastTextModule: () => getFastTextModule(),
  }));
  return new FastText().loadModel(pathToFileURL(join(FIXTURES, file)).href);
}

/** What fastText predicts for the text as one line (its line breaks made spaces, as our model reads them). */
function referencePredict(model: ReferenceModel, text: string, k: number, threshold: number): FastTextPrediction[] {
  return referencePredictions(model, text.replace(/\n/g, ' '), k, threshold);
}

function ours(file: string): FastTextSupervisedModel {
  return new FastTextSupervisedModel(readFtz(readFileSync(join(FIXTURES, file)), file), file);
}

/** The documents make-models.sh held out of training: every fifth email and fortune. */
function heldOut(): string[] {
  return [...sampleTexts('email.jsonl.gz'), ...sampleTexts('multilingual.jsonl.gz')].filter((_, i) => i % 5 === 0);
}

const CORNERS = [
  '',
  ' ',
  'x',
  'free money',
  'FREE MONEY click here now',
  '__label__spam buy now',
  '__label__unknown words after a label-like token',
  'a line </s> and what fastText never reads after the end-of-sentence token',
  'tabs\tand\vvertical\fseparators\rand carriage returns',
  'Ünïcödé wörds, 中文的句子, русские слова, emoji 😀 and a lone surrogate \ud800 here',
  'Der schnelle braune Fuchs springt über den faulen Hund',
  'El rápido zorro marrón salta sobre el perro perezoso',
  'word '.repeat(500),
];

for (const file of MODELS) {
  test(`fastText file ${file}: every held-out text gets fastText's labels and probabilities (k = all, 1; thresholds 0 and 0.3)`, async () => {
    const reference = await referenceModel(file);
    const model = ours(file);
    const texts = [...heldOut(), ...CORNERS];
    assert.ok(texts.length > 120);
    for (const text of texts) {
      for (const [k, threshold] of [[-1, 0], [1, 0], [2, 0.3]] as const) {
        const line = (text as unknown as { toWellFormed(): string }).toWellFormed();
        assert.deepEqual(model.predict(text, k, threshold), referencePredict(reference, line, k, threshold), `k=${k} t=${threshold} ${JSON.stringify(text.slice(0, 60))}`);
      }
    }
  });
}

test('fastText file: the models cover what the reader must handle (dense and quantised input, pruned buckets, four losses)', () => {
  const read = (file: string) => readFtz(readFileSync(join(FIXTURES, file)), file);
  const softmax = read('spam-softmax.bin');
  assert.equal(softmax.pruned, undefined);
  assert.equal(softmax.args.wordNgrams, 2);
  assert.equal(softmax.args.loss, 3);
  assert.equal(read('lang-ova.bin').args.loss, 4);
  assert.equal(read('lang-ns.bin').args.loss, 2);
  const hs = read('spam-hs.ftz');
  assert.equal(hs.args.loss, 1);
  assert.ok(hs.pruned !== undefined && hs.pruned.buckets.length > 0 && hs.pruned.buckets.length < hs.args.bucket);
  assert.deepEqual(ours('lang-ova.bin').labels.slice().sort(), ['de', 'es', 'it', 'ru', 'zh']);
});

function ctx(baseDir: string): StageContext {
  return { baseDir, outputDir: baseDir, workDir: baseDir, seed: 0, keyPath: 'stages[0]', files: folderFiles };
}

test('quality stage with a fastText file: meta.quality is fastText\'s probability of the positive label; the topic form writes meta.category', async () => {
  const reference = await referenceModel('spam-softmax.bin');
  const texts = heldOut().filter((_, i) => i % 3 === 0).slice(0, 30);
  const stage = await createQualityStage(qualityOptions.parse({ model: join(FIXTURES, 'spam-softmax.bin'), positive_label: 'spam', skip_code: false, threshold: 0.5 }), ctx('/'));
  const docs = texts.map((text, i) => ({ id: `d${i}`, text, meta: {} as Record<string, unknown> }));
  const verdicts = await stage.process(docs);
  docs.forEach((doc, i) => {
    const spam = referencePredict(reference, texts[i]!, -1, 0).find((p) => p.label === 'spam')!.probability;
    assert.equal(doc.meta.quality, Math.round(spam * 1e6) / 1e6);
    assert.equal(verdicts[i]!.keep, spam >= 0.5);
  });
  assert.ok(verdicts.some((v) => v.keep) && verdicts.some((v) => !v.keep));
  await stage.close?.();

  const lang = await createQualityStage(qualityOptions.parse({ model: join(FIXTURES, 'lang-ova.bin'), field: 'category', keep_labels: ['de'], skip_code: false }), ctx('/'));
  const batch = [
    { id: 'de', text: 'Wer nicht kommt zur rechten Zeit, der muss essen, was übrig bleibt.', meta: {} as Record<string, unknown> },
    { id: 'it', text: 'Chi va piano va sano e va lontano, e chi va forte va alla morte.', meta: {} as Record<string, unknown> },
  ];
  const v = await lang.process(batch);
  assert.equal(batch[0]!.meta.category, 'de');
  assert.equal(batch[1]!.meta.category, 'it');
  assert.deepEqual(v.map((x) => x.keep), [true, false]);
  await lang.close?.();
});

test('quality stage with a fastText file: a binary model without a positive label among the usual names asks for positive_label; a card folder works too', async () => {
  await assert.rejects(
    createQualityStage(qualityOptions.parse({ model: join(FIXTURES, 'spam-hs.ftz') }), ctx('/')),
    /spam-hs\.ftz: which of its labels \((ham, spam|spam, ham)\) is the positive class\? Give the quality stage's positive_label/,
  );
  await assert.rejects(createQualityStage(qualityOptions.parse({ model: 'missing.bin' }), ctx(FIXTURES)), /missing\.bin: cannot read the fastText model/);
  await assert.rejects(createQualityStage(qualityOptions.parse({ model: 'make-models.sh' }), ctx(FIXTURES)), /make-models\.sh: not a fastText model \(magic number\)/);

  const dir = await mkdtemp(join(tmpdir(), 'refinery-ftfile-'));
  await mkdir(join(dir, 'spam'));
  await copyFile(join(FIXTURES, 'spam-hs.ftz'), join(dir, 'spam', 'spam.ftz'));
  await writeFile(join(dir, 'spam', 'card.json'), JSON.stringify({ format: 'fasttext-file/1', task: 'binary', labels: ['ham', 'spam'], positive_label: 'spam', threshold: 0.4, file: 'spam.ftz' }));
  const stage = await createQualityStage(qualityOptions.parse({ model: 'spam', threshold: 'card', skip_code: false }), ctx(dir));
  const docs = [{ id: 'a', text: 'Dear friend, you have WON $1,000,000! Click here to claim your FREE prize now!!!', meta: {} as Record<string, unknown> }];
  const verdicts = await stage.process(docs);
  const p = referencePredict(await referenceModel('spam-hs.ftz'), docs[0]!.text, -1, 0).find((x) => x.label === 'spam')?.probability ?? 0;
  assert.equal(docs[0]!.meta.quality, Math.round(p * 1e6) / 1e6);
  assert.equal(verdicts[0]!.keep, p >= 0.4);
  await stage.close?.();

  await writeFile(join(dir, 'spam', 'card.json'), JSON.stringify({ format: 'fasttext-file/1', task: 'binary', labels: ['ham', 'good'], file: 'spam.ftz' }));
  await assert.rejects(createQualityStage(qualityOptions.parse({ model: 'spam' }), ctx(dir)), /the card names labels the model does not have: good/);
});
