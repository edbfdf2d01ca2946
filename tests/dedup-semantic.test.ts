import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Doc } from '../pipeline/doc.ts';
import { semanticDedupStage } from '../dedup/semantic-dedup.ts';
import { HashedNgramEmbedder, DEFAULT_HASHED_NGRAM, buildHashedNgramModel, featureCounts, gaussians, hashedFeatures, projectionTable, type HashedNgramSettings } from '../dedup/semantic/hashed-ngram-embedder.ts';
import { SimHashBands } from '../dedup/semantic/simhash.ts';
import { fmix32, mix32 } from '../pipeline/hash.ts';
import { OnnxSession } from '../pipeline/onnx/session.ts';
import { OnnxSentenceEmbedder } from '../dedup/semantic/onnx-sentence-embedder.ts';
import { SentenceTokenizer } from '../dedup/semantic/sentence-tokenizer.ts';
import { exportSubwordEmbeddingModel } from '../dedup/semantic/subword-model-export.ts';
import { cosine } from '../dedup/semantic/embedder.ts';
import { runGlobalStage } from './run-global-stage.ts';
import { OnnxGraphBuilder } from '../pipeline/onnx/builder.ts';
import { chineseDocument, injectedCorpus } from './dedup-corpus.ts';

async function embedAll(e: { embed(t: string[]): Promise<Float32Array>; dim: number }, docs: Doc[]): Promise<Float32Array[]> {
  const rows: Float32Array[] = [];
  for (let b = 0; b < docs.length; b += 32) {
    const m = await e.embed(docs.slice(b, b + 32).map((d) => d.text));
    for (let r = 0; r * e.dim < m.length; r++) rows.push(m.slice(r * e.dim, (r + 1) * e.dim));
  }
  return rows;
}

test('the built-in model gives unit vectors; near-copies are closer than unrelated texts', async () => {
  const e = await HashedNgramEmbedder.create({ seed: 1 });
  const corpus = injectedCorpus(31, 20, 150, 0.05, 1);
  const v = await embedAll(e, corpus.shards[0]);
  for (const row of v) assert.ok(Math.abs(cosine(row, row) - 1) < 1e-4);
  assert.ok(cosine(v[0], v[20]) > 0.9, 'original vs its copy');
  assert.ok(cosine(v[0], v[1]) < 0.6, 'two unrelated originals');
  const [empty] = await embedAll(e, [{ id: 'e', text: '', meta: {} }]);
  assert.equal(cosine(empty, empty), 0);
});

test('the built-in model computed in TypeScript agrees with the same projection as an ONNX graph', async () => {
  const settings = { ...DEFAULT_HASHED_NGRAM, seed: 5 };
  const e = await HashedNgramEmbedder.create(settings);
  const session = await OnnxSession.load(buildHashedNgramModel(settings));
  const texts = [...injectedCorpus(33, 6, 120, 0.1, 1).shards[0].map((d) => d.text), chineseDocument(3, 300), 'x', ''];
  const feats = texts.map((t) => hashedFeatures(t, settings));
  const len = Math.max(1, ...feats.map((f) => f.ids.length));
  const ids = new BigInt64Array(texts.length * len);
  const weights = new Float32Array(texts.length * len);
  feats.forEach((f, r) => f.ids.forEach((id, i) => {
    ids[r * len + i] = BigInt(id);
    weights[r * len + i] = f.weights[i];
  }));
  const dims = [texts.length, len];
  const onnx = (await session.run({ ids: { type: 'int64', data: ids, dims }, weights: { type: 'float32', data: weights, dims } })).embedding.data as Float32Array;
  await session.close();
  const ours = await e.embed(texts);
  assert.equal(ours.length, onnx.length);
  let maxDiff = 0;
  for (let i = 0; i < ours.length; i++) if (!Number.isNaN(onnx[i])) maxDiff = Math.max(maxDiff, Math.abs(ours[i] - onnx[i]));
  assert.ok(maxDiff < 1e-5, `largest difference ${maxDiff}`);
  assert.ok(ours.subarray(-e.dim).every((x) => x === 0), 'no words: a zero vector');
});

/**
 * The built-in model's arithmetic as first defined (its output is what a run keeps): float64 sums
 * of w·row over the features in order of first occurrence, four rows per addition to the sums,
 * then one at a time; w = 1 + ln(count); rounded once to float32 after L2 normalisation.
 */
function referenceEmbedding(text: string, s: HashedNgramSettings, table: Float32Array): Float32Array {
  const { ids, counts } = featureCounts(text, s);
  const w = Array.from(counts, (c) => 1 + Math.log(c));
  const sums = new Float64Array(s.dim);
  let f = 0;
  for (; f + 3 < ids.length; f += 4) {
    for (let d = 0; d < s.dim; d++) {
      sums[d] += w[f] * table[ids[f] * s.dim + d] + w[f + 1] * table[ids[f + 1] * s.dim + d] + w[f + 2] * table[ids[f + 2] * s.dim + d] + w[f + 3] * table[ids[f + 3] * s.dim + d];
    }
  }
  for (; f < ids.length; f++) for (let d = 0; d < s.dim; d++) sums[d] += w[f] * table[ids[f] * s.dim + d];
  const norm = sums.reduce((a, x) => a + x * x, 0);
  const out = new Float32Array(s.dim);
  if (norm > 0) for (let d = 0; d < s.dim; d++) out[d] = sums[d] * (1 / Math.sqrt(norm));
  return out;
}

test('the built-in model gives the embeddings of its reference arithmetic bit for bit (any feature count, repeated words, any bucket count, odd dimension)', async () => {
  const texts = [
    ...injectedCorpus(41, 8, 300, 0.1, 1).shards[0].map((d) => d.text),
    chineseDocument(4, 400),
    'the cat the cat the cat sat '.repeat(40),
    ...Array.from({ length: 9 }, (_, k) => Array.from({ length: k + 1 }, (_, i) => `w${i}`).join(' ')),
    '',
  ];
  for (const settings of [{ ...DEFAULT_HASHED_NGRAM, seed: 3 }, { buckets: 1000, dim: 25, maxN: 2, maxFeatures: 50, seed: 9 }]) {
    const e = await HashedNgramEmbedder.create(settings);
    const ours = await e.embed(texts);
    const table = projectionTable(settings);
    texts.forEach((t, r) => {
      const ref = referenceEmbedding(t, settings, table);
      assert.deepEqual(Buffer.from(ours.buffer, r * settings.dim * 4, settings.dim * 4), Buffer.from(ref.buffer), `text ${r}, ${settings.buckets} buckets`);
    });
  }
});

test('SimHash band keys are those of one dot product at a time (any rows, more than 32 bits per band)', async () => {
  const e = await HashedNgramEmbedder.create({ seed: 2 });
  const m = await e.embed(injectedCorpus(42, 6, 120, 0.1, 1).shards[0].map((d) => d.text));
  for (const [bands, rows] of [[20, 16], [3, 7], [2, 40]]) {
    const lsh = new SimHashBands(e.dim, bands, rows, 11);
    const planes = gaussians(bands * rows * e.dim, 11 ^ 0x73696d);
    for (let at = 0; at < m.length; at += e.dim) {
      const expected: number[] = [];
      for (let b = 0; b < bands; b++) {
        let bits = 0;
        let h1 = 0x5eed ^ b;
        for (let r = 0; r < rows; r++) {
          let dot = 0;
          for (let i = 0; i < e.dim; i++) dot += planes[(b * rows + r) * e.dim + i] * m[at + i];
          bits = (bits << 1) | (dot >= 0 ? 1 : 0);
          if ((r & 31) === 31) {
            h1 = mix32(h1, bits);
            bits = 0;
          }
        }
        h1 = mix32(h1, bits);
        expected.push(fmix32(h1 ^ rows), fmix32(mix32(h1, 0x62616e64 + b)));
      }
      assert.deepEqual([...lsh.keys(m, at)], expected, `${bands} x ${rows}, row ${at / e.dim}`);
    }
  }
});

test('semantic dedup: LSH finds >= 90% of the pairs brute-force cosine finds above the threshold', async () => {
  const corpus = injectedCorpus(32, 300, 200, 0.2, 3);
  const run = await runGlobalStage(semanticDedupStage, { partitions: 4 }, corpus.shards);
  const docs = run.docs.flat();
  const vectors = await embedAll(await HashedNgramEmbedder.create({ seed: 1 }), docs);
  let brute = 0;
  let found = 0;
  for (let i = 0; i < docs.length; i++) {
    for (let j = i + 1; j < docs.length; j++) {
      if (cosine(vectors[i], vectors[j]) < 0.95) continue;
      brute++;
      if (docs[i].meta.dedup_cluster !== undefined && docs[i].meta.dedup_cluster === docs[j].meta.dedup_cluster) found++;
    }
  }
  assert.ok(brute >= 50, `enough pairs above the threshold (${brute})`);
  assert.ok(found / brute >= 0.9, `LSH recall ${found}/${brute}`);
  const stats = JSON.parse(await readFile(join(run.output, 'stats', 'semantic-dedup.json'), 'utf8'));
  assert.equal(stats.removed_docs, docs.filter((d) => d.meta.duplicate_of !== undefined).length);
  assert.match(stats.settings.model, /hashed word/);
  // No two originals (unrelated texts) end in one cluster.
  const clusters = new Set<unknown>();
  for (const d of docs) if (d.id.startsWith('orig-') && d.meta.dedup_cluster !== undefined) {
    assert.ok(!clusters.has(d.meta.dedup_cluster));
    clusters.add(d.meta.dedup_cluster);
  }
});

test('WordPiece tokenizer.json: normalisation, punctuation split, longest-match subwords, [CLS]/[SEP]', () => {
  const vocab = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'un', '##aff', '##able', 'the', 'cafe', ',', 'runn', '##ing'];
  const t = SentenceTokenizer.fromJson(
    {
      normalizer: { type: 'BertNormalizer', lowercase: true, strip_accents: null, clean_text: true, handle_chinese_chars: true },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((w, i) => [w, i])) },
      post_processor: { type: 'BertProcessing', cls: ['[CLS]', 2], sep: ['[SEP]', 3] },
    },
    {},
    'test',
  );
  assert.deepEqual(t.encode('The UNAFFABLE Café, running xyz'), [2, 7, 4, 5, 6, 8, 9, 10, 11, 1, 3]);
  assert.deepEqual(t.encode('the the the the', 4), [2, 7, 7, 3]);
  assert.deepEqual(t.encode('the\ncafe\u200b'), [2, 7, 8, 3]);
  assert.throws(() => SentenceTokenizer.fromJson({ model: { type: 'Nonesuch' } }, {}, 'x.json'), /x\.json: cannot build the tokenizer: Unknown TokenizerModel type: Nonesuch/);
});

/** A SentencePiece-style Unigram tokenizer.json (as multilingual-e5 and XLM-R ship): NFKC, Metaspace, <s> … </s>. */
const UNIGRAM_PIECES: [string, number][] = [
  ['<s>', 0], ['<pad>', 0], ['</s>', 0], ['<unk>', 0], ['▁', -2], ['▁le', -3], ['▁chat', -4], ['▁ch', -6], ['at', -6], ['▁noir', -4], ['▁dort', -4], ['s', -5], ['▁猫', -4], ['が', -5], ['寝', -5], ['る', -5],
];
const UNIGRAM_JSON = {
  version: '1.0',
  truncation: null,
  padding: null,
  added_tokens: [0, 1, 2, 3].map((id) => ({ id, content: UNIGRAM_PIECES[id]![0], single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
  normalizer: { type: 'NFKC' },
  pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  post_processor: {
    type: 'TemplateProcessing',
    single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
    pair: [],
    special_tokens: { '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] } },
  },
  decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
  model: { type: 'Unigram', unk_id: 3, vocab: UNIGRAM_PIECES, byte_fallback: false },
};

test('Unigram tokenizer.json (multilingual SentencePiece): best-scoring pieces, NFKC, <s> … </s>, truncation keeps </s>', () => {
  const t = SentenceTokenizer.fromJson(UNIGRAM_JSON, {}, 'unigram');
  // "▁chat" (-4) beats "▁ch" + "at" (-12); "dorts" is "▁dort" + "s"; full-width ｌｅ is NFKC "le".
  assert.deepEqual(t.encode('ｌｅ chat noir dorts'), [0, 5, 6, 9, 10, 11, 2]);
  assert.deepEqual(t.encode('猫が寝る'), [0, 12, 13, 14, 15, 2]);
  assert.deepEqual(t.encode('le chat noir dorts', 4), [0, 5, 6, 2]);
  assert.equal(t.maxLength, 512);
});

test('byte-level BPE tokenizer.json (GPT-2 style): merges in rank order, no special tokens', () => {
  const vocab = ['<|endoftext|>', 'l', 'o', 'w', 'e', 'r', 'Ġ', 'lo', 'low', 'er', 'Ġlow'];
  const t = SentenceTokenizer.fromJson(
    {
      truncation: { max_length: 3 },
      added_tokens: [{ id: 0, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
      pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
      post_processor: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: false, use_regex: true },
      decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
      model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab: Object.fromEntries(vocab.map((w, i) => [w, i])), merges: ['l o', 'lo w', 'e r', 'Ġ low'] },
    },
    {},
    'bpe',
  );
  // "lower low" → "low" "er" "Ġlow"; the tokenizer's max_length (3) cuts "lower low low" after three tokens.
  assert.deepEqual(t.encode('lower low', 10), [8, 9, 10]);
  assert.deepEqual(t.encode('lower low low'), [8, 9, 10]);
});

test('plug-in path with a Unigram tokenizer: the embedding is the mean of the token vectors of its Unigram ids', async () => {
  // model.onnx: one-hot token vectors (dimension = vocabulary), so the mean-pooled embedding shows which ids came in.
  const dir = await mkdtemp(join(tmpdir(), 'dedup-unigram-'));
  const n = UNIGRAM_PIECES.length;
  const g = new OnnxGraphBuilder('one_hot_embedding');
  g.input('input_ids', 'int64', ['batch', 'tokens']);
  g.input('attention_mask', 'int64', ['batch', 'tokens']);
  g.initializer('embeddings', 'float32', [n, n], Float32Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? 1 : 0)));
  g.initializer('axis_2', 'int64', [1], [2]);
  const [tokens] = g.node('Gather', ['embeddings', 'input_ids'], 1, { axis: { int: 0 } });
  const [maskFloat] = g.node('Cast', ['attention_mask'], 1, { to: { int: 1 } });
  const [mask3] = g.node('Unsqueeze', [maskFloat, 'axis_2'], 1);
  g.node('Mul', [tokens, mask3], ['last_hidden_state']);
  g.output('last_hidden_state', 'float32', ['batch', 'tokens', n]);
  await writeFile(join(dir, 'model.onnx'), g.toBytes());
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(UNIGRAM_JSON));
  const embedder = await OnnxSentenceEmbedder.load(dir);
  assert.equal(embedder.dim, n);
  const m = await embedder.embed(['le chat noir', '猫が寝る']);
  const expected = (ids: number[]) => {
    const v = new Float32Array(n);
    for (const id of ids) v[id] += 1;
    const norm = Math.hypot(...v);
    return [...v].map((x) => x / norm);
  };
  const close = (a: ArrayLike<number>, b: number[]) => b.every((x, i) => Math.abs(x - a[i]!) < 1e-6);
  assert.ok(close(m.subarray(0, n), expected([0, 5, 6, 9, 2])), `row 0: ${[...m.subarray(0, n)]}`);
  assert.ok(close(m.subarray(n, 2 * n), expected([0, 12, 13, 14, 15, 2])), `row 1: ${[...m.subarray(n, 2 * n)]}`);
  await embedder.close();
});

test('plug-in path: a model.onnx + tokenizer.json folder (the project-trained subword model) deduplicates', async () => {
  const corpus = injectedCorpus(33, 150, 200, 0.1, 2);
  const dir = await mkdtemp(join(tmpdir(), 'dedup-model-'));
  await exportSubwordEmbeddingModel(corpus.shards.flat().map((d) => d.text), dir, { vocabSize: 2000, dim: 128, seed: 3 });
  const embedder = await OnnxSentenceEmbedder.load(dir);
  assert.equal(embedder.dim, 128);
  const run = await runGlobalStage(semanticDedupStage, { model: dir, threshold: 0.95 }, corpus.shards);
  const byId = new Map(run.docs.flat().map((d) => [d.id, d]));
  const high = corpus.pairs.filter((p) => p.jaccard >= 0.8);
  const merged = high.filter((p) => byId.get(p.b)!.meta.duplicate_of === p.a).length;
  assert.ok(high.length >= 30 && merged / high.length >= 0.9, `${merged}/${high.length} pairs at J >= 0.8 merged`);
  const stats = JSON.parse(await readFile(join(run.output, 'stats', 'semantic-dedup.json'), 'utf8'));
  assert.match(stats.settings.model, /dedup-model-/);
  await embedder.close();
});

test('the built-in model embeds Chinese by words (the shared segmenter): a copy with 4 characters changed stays above the 0.95 threshold', async () => {
  const a = chineseDocument(7, 800);
  const chars = [...a];
  for (const at of [100, 300, 500, 700]) chars[at] = chars[at] === '猫' ? '狗' : '猫';
  const e = await HashedNgramEmbedder.create({ seed: 1 });
  const m = await e.embed([a, chars.join(''), chineseDocument(8, 800)]);
  const row = (i: number): Float32Array => m.subarray(i * e.dim, (i + 1) * e.dim);
  assert.ok(cosine(row(0), row(1)) >= 0.95, `near copy: cosine ${cosine(row(0), row(1))}`);
  assert.ok(cosine(row(0), row(2)) < 0.95, `unrelated: cosine ${cosine(row(0), row(2))}`);
});

test('plug-in path: a model whose output is neither [batch, dim] nor [batch, tokens, hidden] is an error naming model.onnx', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dedup-bad-output-'));
  const g = new OnnxGraphBuilder('tokens_per_text');
  g.input('input_ids', 'int64', ['batch', 'tokens']);
  g.input('attention_mask', 'int64', ['batch', 'tokens']);
  g.initializer('axis_1', 'int64', [1], [1]);
  const [maskFloat] = g.node('Cast', ['attention_mask'], 1, { to: { int: 1 } });
  g.node('ReduceSum', [maskFloat, 'axis_1'], ['counts'], { keepdims: { int: 0 } });
  g.output('counts', 'float32', ['batch']);
  await writeFile(join(dir, 'model.onnx'), g.toBytes());
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(UNIGRAM_JSON));
  await assert.rejects(OnnxSentenceEmbedder.load(dir), (e: Error) => {
    assert.match(e.message, /model\.onnx: expected an output sentence_embedding \[1, dim\] or a first output \[1, \d+, hidden\]; got counts \[1\]/);
    return true;
  });
});
