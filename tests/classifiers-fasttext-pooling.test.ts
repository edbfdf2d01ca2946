/**
 * The fastText-style model split in two (classifiers/fasttext/onnx-scoring.ts): the embedding bag
 * pooled by the WebAssembly kernel (pooling.wat, compiled by the build to pooling.wasm), then a
 * graph of the layers alone. Its scores are the whole graph's, float32 for float32, for every task,
 * with and without a hidden layer, for dims summed 16 lanes at a time, 4 at a time and both; a
 * file that is not exactly the exporter's graph runs whole.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { compileKernel, KERNELS } from '../bin/compile-kernels.ts';
import { fastTextLayersToOnnx, fastTextModelOfOnnx, fastTextToOnnx } from '../classifiers/fasttext/export-onnx.ts';
import { FastTextModel, type TaskKind } from '../classifiers/fasttext/model.ts';
import { FeatureHasher } from '../classifiers/fasttext/features.ts';
import { openFastTextOnnx } from '../classifiers/fasttext/onnx-scoring.ts';
import { PoolingKernel } from '../classifiers/fasttext/pooling-kernel.ts';
import { readModelCard, type FastTextCard } from '../classifiers/model-card.ts';
import { openScorer } from '../classifiers/scorer.ts';
import { OnnxGraphBuilder } from '../pipeline/onnx/builder.ts';
import { ModelProto } from '../pipeline/onnx/schema.ts';
import { SeededRandom } from '../pipeline/seeded-random.ts';

const root = join(import.meta.dirname, '..');
const BUCKETS = 3000;

function randomModel(task: TaskKind, dim: number, hidden: number, seed: number): FastTextModel {
  const outputs = task === 'regression' ? 1 : task === 'binary' ? 2 : 5;
  const model = new FastTextModel({ task, buckets: BUCKETS, dim, hidden, outputs });
  const rng = new SeededRandom(seed);
  // Rows of mixed signs and magnitudes, so that float32 sums round differently in another order.
  for (const a of [model.embedding, model.w1, model.b1, model.w2, model.b2]) {
    for (let i = 0; i < a.length; i++) a[i] = (rng.next() - 0.5) * 2 ** (rng.int(12) - 6);
  }
  if (task === 'regression') {
    model.targetScale = 1.7;
    model.targetShift = -0.3;
  }
  return model;
}

/** One-feature documents, documents of 4,096 words with their word bigrams, and lengths between. */
function batches(seed: number): Int32Array[][] {
  const rng = new SeededRandom(seed);
  const ids = (n: number) => Int32Array.from({ length: n }, () => rng.int(BUCKETS));
  return [
    [ids(1)],
    Array.from({ length: 9 }, () => ids(1)),
    [ids(2 * 4096 + 1), ids(1), ids(2 * 4096 + 1)],
    Array.from({ length: 64 }, () => ids(1 + rng.int(3200))),
  ];
}

const bits = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);

test('the built pooling.wasm is what the build compiles from pooling.wat', async () => {
  const kernel = KERNELS.find((k) => k.source.endsWith('pooling.wat'))!;
  const built = readFileSync(join(root, kernel.binary));
  assert.ok(Buffer.from(await compileKernel(kernel.source)).equals(built), `${kernel.binary} is stale: run \`npm run build\``);
});

for (const task of ['binary', 'multiclass', 'regression'] as const) {
  for (const hidden of [0, 8]) {
    for (const dim of [4, 16, 20]) {
      test(`split scores equal the whole graph's: ${task}, dim ${dim}, hidden ${hidden}`, async () => {
        const model = randomModel(task, dim, hidden, dim * 10 + hidden);
        const bytes = fastTextToOnnx(model);
        const [split, whole] = [await openFastTextOnnx(bytes), await openFastTextOnnx(bytes, { whole: true })];
        assert.equal(split.split, true);
        assert.equal(whole.split, false);
        for (const batch of batches(dim + hidden)) {
          const [a, b] = [await split.scores(batch), await whole.scores(batch)];
          assert.equal(a.length, batch.length * model.shape.outputs);
          assert.ok(bits(a).equals(bits(b)), `${batch.length} documents of up to ${Math.max(...batch.map((f) => f.length))} features`);
        }
        await split.close();
        await whole.close();
      });
    }
  }
}

test('the pooled rows are the float32 sums of row × weight in feature order', () => {
  const model = randomModel('binary', 20, 0, 3);
  const kernel = PoolingKernel.create(model.embedding, BUCKETS, 20)!;
  const docs = [Int32Array.of(5, 7, 5), Int32Array.of(2999)];
  const pooled = kernel.pool(docs);
  const expected = new Float32Array(docs.length * 20);
  docs.forEach((f, d) => {
    const w = Math.fround(1 / f.length);
    for (const id of f) for (let c = 0; c < 20; c++) expected[d * 20 + c] = Math.fround(expected[d * 20 + c]! + Math.fround(model.embedding[id * 20 + c]! * w));
  });
  assert.ok(bits(pooled).equals(bits(expected)));
});

test('a model file is read back only when its graph is exactly the exporter\'s', async () => {
  const model = randomModel('multiclass', 16, 8, 1);
  const back = fastTextModelOfOnnx(fastTextToOnnx(model, { any: 'metadata' }))!;
  assert.deepEqual(back.shape, model.shape);
  assert.ok(bits(back.embedding).equals(bits(model.embedding)) && bits(back.w1).equals(bits(model.w1)));

  // Graphs that are not the exporter's whole graph (another graph, the layers alone, bytes that are no model) are not read back.
  const g = new OnnxGraphBuilder('refinery_fasttext');
  g.input('pooled', 'float32', ['documents', 16]);
  g.node('Identity', ['pooled'], ['scores']);
  g.output('scores', 'float32', ['documents', 16]);
  assert.equal(fastTextModelOfOnnx(g.toBytes()), undefined);
  assert.equal(fastTextModelOfOnnx(fastTextLayersToOnnx(model)), undefined);
  assert.equal(fastTextModelOfOnnx(new Uint8Array([1, 2, 3])), undefined);
});

interface GraphObject {
  node: { op_type: string; input: string[]; attribute: { name: string; i?: number; s?: Uint8Array }[] }[];
  initializer: { name: string; dims: number[] }[];
}

/** The exporter's file for `model`, decoded, changed by `edit`, encoded again. */
function edited(model: FastTextModel, edit: (graph: GraphObject) => void): Uint8Array {
  const m = ModelProto.toObject(ModelProto.decode(fastTextToOnnx(model)), { longs: Number }) as { graph: GraphObject };
  edit(m.graph);
  return ModelProto.encode(ModelProto.fromObject(m)).finish();
}

test('one operator, input, attribute or dimension changed in the exporter\'s graph, and it is not read back', () => {
  const model = randomModel('regression', 16, 8, 6);
  const node = (g: GraphObject, op: string) => g.node.find((n) => n.op_type === op)!;
  assert.ok(fastTextModelOfOnnx(edited(model, () => {})), 'the unchanged graph, decoded and encoded again, is read back');
  const edits: [string, (g: GraphObject) => void][] = [
    ['Relu as Sigmoid', (g) => (node(g, 'Relu').op_type = 'Sigmoid')],
    ['ScatterND reducing with mul', (g) => (node(g, 'ScatterND').attribute[0]!.s = new TextEncoder().encode('mul'))],
    ['Gather on axis 1', (g) => (node(g, 'Gather').attribute[0]!.i = 1)],
    ['the Gemm inputs swapped', (g) => node(g, 'Gemm').input.reverse()],
    ['nodes reordered', (g) => g.node.reverse()],
    ['the dim initializer not the table\'s', (g) => (g.initializer.find((t) => t.name === 'dim')!.dims = [2])],
    // Dimensions its bytes do not hold: no allocation of 2^40 rows, no throw.
    ['the table claiming 2^40 rows', (g) => (g.initializer.find((t) => t.name === 'embedding')!.dims[0] = 2 ** 40)],
    ['the output matrix claiming 2^31 outputs', (g) => (g.initializer.find((t) => t.name === 'w2')!.dims[1] = 2 ** 31)],
  ];
  for (const [what, edit] of edits) assert.equal(fastTextModelOfOnnx(edited(model, edit)), undefined, what);
  // A GraphProto field the exporter does not write (sparse_initializer, 15), which decoding would drop.
  const decoded = ModelProto.decode(fastTextToOnnx(model)) as unknown as { graph: object };
  const reader = protobuf.Reader.create(ModelProto.encode(ModelProto.fromObject({ graph: decoded.graph })).finish());
  reader.uint32();
  const graph = reader.bytes();
  const withField = protobuf.Writer.create().uint32((7 << 3) | 2).bytes(new Uint8Array([...graph, (15 << 3) | 2, 0])).finish();
  assert.ok(fastTextModelOfOnnx(protobuf.Writer.create().uint32((7 << 3) | 2).bytes(graph).finish()), 'the graph alone is read back');
  assert.equal(fastTextModelOfOnnx(withField), undefined);
});

test('a dim that is not a multiple of 4 runs the whole graph', async () => {
  const model = randomModel('binary', 6, 0, 2);
  const scorer = await openFastTextOnnx(fastTextToOnnx(model));
  assert.equal(scorer.split, false);
  const batch = batches(1)[3]!;
  const scores = await scorer.scores(batch);
  assert.ok(Math.abs(scores[0]! + scores[1]! - 1) < 1e-6);
  await scorer.close();
});

test('a feature id past the embedding table is an error naming it, as in the whole graph', async () => {
  const model = randomModel('binary', 16, 0, 4);
  const split = await openFastTextOnnx(fastTextToOnnx(model));
  await assert.rejects(split.scores([Int32Array.of(1, BUCKETS)]), new RegExp(`feature id ${BUCKETS} is outside the model's ${BUCKETS} embedding rows`));
  await assert.rejects(split.scores([Int32Array.of()]), /at least one feature/);
  await split.close();
});

test('the shipped quality model scores a sample identically both ways, and the scorer splits it', async () => {
  const dir = join(root, 'examples', 'models', 'quality');
  const card = (await readModelCard(dir)) as FastTextCard;
  const texts = ['speeches.jsonl.gz', 'generated-lowquality.jsonl.gz'].flatMap((f) =>
    gunzipSync(readFileSync(join(root, 'examples', 'corpus', f)))
      .toString('utf8')
      .split('\n')
      .filter(Boolean)
      .slice(0, 100)
      .map((l) => (JSON.parse(l) as { text: string }).text),
  );
  const hasher = new FeatureHasher(card.features);
  const batch = texts.map((t) => hasher.features(t));
  const file = join(dir, card.onnx);
  const [split, whole] = [await openFastTextOnnx(file), await openFastTextOnnx(file, { whole: true })];
  assert.equal(split.split, true, 'the shipped model.onnx is the exporter\'s graph');
  const expected = await whole.scores(batch);
  assert.ok(bits(await split.scores(batch)).equals(bits(expected)));
  const scorer = await openScorer(dir);
  assert.ok(bits(await scorer.score(texts)).equals(bits(expected)));
  await Promise.all([split.close(), whole.close(), scorer.close()]);
});
