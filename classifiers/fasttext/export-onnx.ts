/**
 * The fastText-style model as an ONNX graph. Inputs are the hashed features of a batch,
 * flattened: `ids` (feature ids), `bag` (which document of the batch each id belongs to, 0-based,
 * every document present) and `weights` (1 / that document's feature count). The graph gathers
 * the embedding rows, sums them per document (ScatterND, reduction "add"), applies the layers,
 * and outputs `scores` [documents, outputs]: class probabilities, or the regression value.
 */
import { OnnxGraphBuilder } from '../../pipeline/onnx/builder.ts';
import type { FastTextModel } from './model.ts';

export const FASTTEXT_ONNX_OPSET = 17;

export function fastTextToOnnx(model: FastTextModel, metadata: Record<string, string> = {}): Uint8Array {
  const { buckets, dim, hidden, outputs, task } = model.shape;
  const g = new OnnxGraphBuilder('refinery_fasttext');
  g.input('ids', 'int32', ['features']);
  g.input('bag', 'int32', ['features']);
  g.input('weights', 'float32', ['features']);
  g.initializer('embedding', 'float32', [buckets, dim], model.embedding);
  g.initializer('last_axis', 'int64', [1], [-1]);
  g.initializer('dim', 'int64', [1], [dim]);
  g.initializer('one', 'int64', [1], [1]);

  const [bag64] = g.node('Cast', ['bag'], 1, { to: { int: 7 } });
  const [rows] = g.node('Gather', ['embedding', 'ids'], 1, { axis: { int: 0 } });
  const [w] = g.node('Unsqueeze', ['weights', 'last_axis'], 1);
  const [scaled] = g.node('Mul', [rows!, w!], 1);
  const [maxBag] = g.node('ReduceMax', [bag64!], 1, { axes: { ints: [0] }, keepdims: { int: 1 } });
  const [docs] = g.node('Add', [maxBag!, 'one'], 1);
  const [shape] = g.node('Concat', [docs!, 'dim'], 1, { axis: { int: 0 } });
  const [zeros] = g.node('ConstantOfShape', [shape!], 1, { value: { tensor: { type: 'float32', dims: [1], data: [0] } } });
  const [index] = g.node('Unsqueeze', [bag64!, 'last_axis'], 1);
  let [x] = g.node('ScatterND', [zeros!, index!, scaled!], 1, { reduction: { string: 'add' } });

  if (hidden > 0) {
    g.initializer('w1', 'float32', [dim, hidden], model.w1);
    g.initializer('b1', 'float32', [hidden], model.b1);
    const [pre] = g.node('Gemm', [x!, 'w1', 'b1'], 1);
    [x] = g.node('Relu', [pre!], 1);
  }
  g.initializer('w2', 'float32', [hidden > 0 ? hidden : dim, outputs], model.w2);
  g.initializer('b2', 'float32', [outputs], model.b2);
  const [z] = g.node('Gemm', [x!, 'w2', 'b2'], 1);
  if (task === 'regression') {
    g.initializer('target_scale', 'float32', [1], [model.targetScale]);
    g.initializer('target_shift', 'float32', [1], [model.targetShift]);
    const [scaledZ] = g.node('Mul', [z!, 'target_scale'], 1);
    g.node('Add', [scaledZ!, 'target_shift'], ['scores']);
  } else {
    g.node('Softmax', [z!], ['scores'], { axis: { int: -1 } });
  }
  g.output('scores', 'float32', ['documents', outputs]);
  return g.toBytes({ opset: FASTTEXT_ONNX_OPSET, docString: 'fastText-style classifier trained by refinery', metadata });
}

/** The feeds of a batch of feature arrays, in the layout the graph takes. */
export function fastTextFeeds(batch: readonly Int32Array[]): { ids: Int32Array; bag: Int32Array; weights: Float32Array } {
  let total = 0;
  for (const f of batch) total += f.length;
  const ids = new Int32Array(total);
  const bag = new Int32Array(total);
  const weights = new Float32Array(total);
  let o = 0;
  for (let d = 0; d < batch.length; d++) {
    const f = batch[d]!;
    if (f.length === 0) throw new RangeError('every document needs at least one feature (the </s> token)');
    ids.set(f, o);
    bag.fill(d, o, o + f.length);
    weights.fill(1 / f.length, o, o + f.length);
    o += f.length;
  }
  return { ids, bag, weights };
}
