/**
 * The fastText-style model as an ONNX graph. Inputs are the hashed features of a batch,
 * flattened: `ids` (feature ids), `bag` (which document of the batch each id belongs to, 0-based,
 * every document present) and `weights` (1 / that document's feature count). The graph gathers
 * the embedding rows, sums them per document (ScatterND, reduction "add"), applies the layers,
 * and outputs `scores` [documents, outputs]: class probabilities, or the regression value.
 *
 * The scorer may instead pool with pooling.wat and run a graph of the layers alone
 * (`fastTextLayersToOnnx`), built here by the same code as the whole graph's tail, from the
 * model read back out of a whole graph (`fastTextModelOfOnnx`) only when that file is exactly
 * what `fastTextToOnnx` writes.
 */
import protobuf from 'protobufjs';
import { OnnxGraphBuilder } from '../../pipeline/onnx/builder.ts';
import { ModelProto, ONNX_DATA_TYPE } from '../../pipeline/onnx/schema.ts';
import { FastTextModel } from './model.ts';

export const FASTTEXT_ONNX_OPSET = 17;

const DOC_STRING = 'fastText-style classifier trained by refinery';

export function fastTextToOnnx(model: FastTextModel, metadata: Record<string, string> = {}): Uint8Array {
  const { buckets, dim } = model.shape;
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
  const [pooled] = g.node('ScatterND', [zeros!, index!, scaled!], 1, { reduction: { string: 'add' } });

  addLayers(g, model, pooled);
  return g.toBytes({ opset: FASTTEXT_ONNX_OPSET, docString: DOC_STRING, metadata });
}

/** The graph of the layers alone: input `pooled` [documents, dim] (the embedding bag), output `scores`. */
export function fastTextLayersToOnnx(model: FastTextModel): Uint8Array {
  const g = new OnnxGraphBuilder('refinery_fasttext_layers');
  g.input('pooled', 'float32', ['documents', model.shape.dim]);
  addLayers(g, model, 'pooled');
  return g.toBytes({ opset: FASTTEXT_ONNX_OPSET, docString: DOC_STRING });
}

/** The layers from the pooled rows `x` to the output `scores`: the one definition both graphs use. */
function addLayers(g: OnnxGraphBuilder, model: FastTextModel, x: string): void {
  const { dim, hidden, outputs, task } = model.shape;
  if (hidden > 0) {
    g.initializer('w1', 'float32', [dim, hidden], model.w1);
    g.initializer('b1', 'float32', [hidden], model.b1);
    const [pre] = g.node('Gemm', [x, 'w1', 'b1'], 1);
    [x] = g.node('Relu', [pre], 1);
  }
  g.initializer('w2', 'float32', [hidden > 0 ? hidden : dim, outputs], model.w2);
  g.initializer('b2', 'float32', [outputs], model.b2);
  const [z] = g.node('Gemm', [x, 'w2', 'b2'], 1);
  if (task === 'regression') {
    g.initializer('target_scale', 'float32', [1], [model.targetScale]);
    g.initializer('target_shift', 'float32', [1], [model.targetShift]);
    const [scaledZ] = g.node('Mul', [z, 'target_scale'], 1);
    g.node('Add', [scaledZ, 'target_shift'], ['scores']);
  } else {
    g.node('Softmax', [z], ['scores'], { axis: { int: -1 } });
  }
  g.output('scores', 'float32', ['documents', outputs]);
}

interface ProtoInitializer {
  name: string;
  dims: number[];
  data_type: number;
  raw_data?: Uint8Array;
}

/**
 * The model a whole-graph file holds, read from its initializers, when the file's graph is the
 * one `fastTextToOnnx` writes for that model: the same nodes (operator, inputs, outputs,
 * attributes, in order), graph inputs, outputs and initializers, and no field the exporter does
 * not write; otherwise undefined. Binary and multiclass models have the same graph: a model with
 * two outputs comes back as binary.
 */
export function fastTextModelOfOnnx(bytes: Uint8Array): FastTextModel | undefined {
  const graph = graphBytes(bytes);
  if (graph === undefined || !onlyFields(graph, GRAPH_FIELDS)) return undefined;
  let decoded: { graph?: { initializer?: ProtoInitializer[] } };
  try {
    decoded = ModelProto.toObject(ModelProto.decode(bytes), { longs: Number }) as typeof decoded;
  } catch {
    return undefined;
  }
  const initializers = decoded.graph?.initializer ?? [];
  const tensors = new Map<string, { dims: number[]; raw: Uint8Array }>();
  for (const t of initializers) {
    if (t.data_type === ONNX_DATA_TYPE.float32 && t.raw_data !== undefined) tensors.set(t.name, { dims: t.dims, raw: t.raw_data });
  }
  const embedding = tensors.get('embedding');
  const w1 = tensors.get('w1');
  const w2 = tensors.get('w2');
  if (embedding?.dims.length !== 2 || w2?.dims.length !== 2) return undefined;
  const [buckets, dim] = embedding.dims as [number, number];
  // Dimensions that a matrix's bytes do not hold are not this exporter's file (and must not size an allocation).
  const holds = (t: { dims: number[]; raw: Uint8Array }) => t.dims.every((d) => Number.isSafeInteger(d) && d >= 1) && t.raw.byteLength === t.dims.reduce((a, d) => a * d, 4);
  if (!holds(embedding) || !holds(w2) || (w1 !== undefined && !holds(w1))) return undefined;
  const hidden = w1?.dims.length === 2 ? w1.dims[1]! : 0;
  const outputs = w2.dims[1]!;
  const regression = tensors.has('target_scale');
  const shape = { task: regression ? 'regression' : outputs === 2 ? 'binary' : 'multiclass', dim, hidden, outputs } as const;
  const model = new FastTextModel({ ...shape, buckets });
  // The graph is compared with a one-row table on both sides: re-encoding the whole table would
  // cost more than loading the model (its values are copied into the model below, unchanged).
  const oneRow = new FastTextModel({ ...shape, buckets: 1 });
  const fill = (name: string, into: Float32Array): boolean => {
    const raw = tensors.get(name)?.raw;
    if (raw?.byteLength !== into.byteLength) return false;
    new Uint8Array(into.buffer, into.byteOffset, into.byteLength).set(raw);
    return true;
  };
  if (!fill('embedding', model.embedding)) return undefined;
  for (const m of [model, oneRow]) {
    if (!fill('w2', m.w2) || !fill('b2', m.b2)) return undefined;
    if (hidden > 0 && (!fill('w1', m.w1) || !fill('b1', m.b1))) return undefined;
    if (regression) {
      const scale = new Float32Array(1);
      const shift = new Float32Array(1);
      if (!fill('target_scale', scale) || !fill('target_shift', shift)) return undefined;
      m.targetScale = scale[0]!;
      m.targetShift = shift[0]!;
    }
  }
  const fileGraph = {
    ...decoded.graph,
    initializer: initializers.map((t) => (t.name === 'embedding' ? { ...t, dims: [1, dim], raw_data: new Uint8Array(4 * dim) } : t)),
  };
  const expected = ModelProto.toObject(ModelProto.decode(fastTextToOnnx(oneRow)), { longs: Number }) as { graph: object };
  const encode = (g: object) => Buffer.from(ModelProto.encode(ModelProto.fromObject({ graph: g })).finish());
  return encode(fileGraph).equals(encode(expected.graph)) ? model : undefined;
}

/** GraphProto fields the exporter writes: node, name, initializer, doc_string, input, output, value_info. */
const GRAPH_FIELDS = new Set([1, 2, 5, 10, 11, 12, 13]);

/** Whether a message's top-level fields are all among `fields` (decoding drops fields it does not know). */
function onlyFields(message: Uint8Array, fields: ReadonlySet<number>): boolean {
  try {
    const reader = protobuf.Reader.create(message);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (!fields.has(tag >>> 3)) return false;
      reader.skipType(tag & 7);
    }
    return true;
  } catch {
    return false;
  }
}

/** The serialized GraphProto of a ModelProto (field 7), or undefined when it is absent, repeated or unreadable. */
function graphBytes(model: Uint8Array): Uint8Array | undefined {
  try {
    const reader = protobuf.Reader.create(model);
    let graph: Uint8Array | undefined;
    let count = 0;
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 7 && (tag & 7) === 2) {
        graph = reader.bytes();
        count++;
      } else {
        reader.skipType(tag & 7);
      }
    }
    return count === 1 ? graph : undefined;
  } catch {
    return undefined;
  }
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
