/**
 * A small ONNX graph builder: declare typed inputs and outputs, add initializers (float32,
 * int64, int32 tensors stored as little-endian raw data) and nodes with attributes, then
 * `toBytes()` gives a model that onnxruntime-node loads. Used to export the classifiers here
 * and the semantic-dedup embedding model; nothing is downloaded, everything is built in code.
 *
 *   const g = new OnnxGraphBuilder('linear');
 *   g.input('x', 'float32', ['batch', 4]);
 *   g.initializer('w', 'float32', [4, 2], weights);
 *   g.node('MatMul', ['x', 'w'], ['y']);
 *   g.output('y', 'float32', ['batch', 2]);
 *   const bytes = g.toBytes();
 */
import { ModelProto, ONNX_ATTRIBUTE_TYPE, ONNX_DATA_TYPE } from './schema.ts';

export type OnnxElementType = 'float32' | 'int64' | 'int32' | 'uint8' | 'int8' | 'bool' | 'float64' | 'string';

/** A dimension: a fixed size, or a symbolic name such as 'batch' for a size known at run time. */
export type OnnxDim = number | string;

/** A tensor given by value; the data length must equal the product of `dims`. */
export interface OnnxTensorValue {
  type: 'float32' | 'int64' | 'int32';
  dims: readonly number[];
  data: ArrayLike<number> | BigInt64Array;
}

/** An attribute value, tagged with its ONNX type (1 and 1.0 are the same number in JS). */
export type OnnxAttribute =
  | { int: number }
  | { float: number }
  | { string: string }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { strings: readonly string[] }
  | { tensor: OnnxTensorValue };

export interface OnnxModelOptions {
  /** Default opset of the ai.onnx domain; 17 is supported by every onnxruntime since 1.13. */
  opset?: number;
  /** Extra opsets, e.g. { 'com.microsoft': 1 }. */
  extraOpsets?: Record<string, number>;
  /** ONNX IR version; 8 goes with opset 17. */
  irVersion?: number;
  producerName?: string;
  docString?: string;
  /** Free key/value pairs stored in the model (readable from any ONNX tool). */
  metadata?: Record<string, string>;
}

interface ProtoTensor {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

interface ProtoValueInfo {
  name: string;
  type: { tensor_type: { elem_type: number; shape: { dim: ({ dim_value: number } | { dim_param: string })[] } } };
}

interface ProtoAttribute {
  name: string;
  type: number;
  f?: number;
  i?: number;
  s?: Uint8Array;
  t?: ProtoTensor;
  floats?: number[];
  ints?: number[];
  strings?: Uint8Array[];
}

interface ProtoNode {
  name: string;
  op_type: string;
  domain: string;
  input: string[];
  output: string[];
  attribute: ProtoAttribute[];
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/** Little-endian raw bytes of a tensor (the layout ONNX `raw_data` requires). */
function rawBytes(value: OnnxTensorValue): Uint8Array {
  const n = elementCount(value.dims);
  if (value.data.length !== n) {
    throw new RangeError(`tensor data has ${value.data.length} values but dims [${value.dims.join(', ')}] need ${n}`);
  }
  const width = value.type === 'int64' ? 8 : 4;
  if (LITTLE_ENDIAN && value.type === 'float32' && value.data instanceof Float32Array) {
    return new Uint8Array(value.data.buffer.slice(value.data.byteOffset, value.data.byteOffset + n * 4));
  }
  const buf = new ArrayBuffer(n * width);
  const view = new DataView(buf);
  for (let i = 0; i < n; i++) {
    const v = value.data[i]!;
    if (value.type === 'float32') view.setFloat32(i * 4, Number(v), true);
    else if (value.type === 'int32') view.setInt32(i * 4, Number(v), true);
    else view.setBigInt64(i * 8, typeof v === 'bigint' ? v : BigInt(Math.trunc(v)), true);
  }
  return new Uint8Array(buf);
}

function protoTensor(name: string, value: OnnxTensorValue): ProtoTensor {
  return { name, dims: [...value.dims], data_type: ONNX_DATA_TYPE[value.type], raw_data: rawBytes(value) };
}

function protoAttribute(name: string, value: OnnxAttribute): ProtoAttribute {
  const enc = new TextEncoder();
  if ('int' in value) return { name, type: ONNX_ATTRIBUTE_TYPE.int, i: value.int };
  if ('float' in value) return { name, type: ONNX_ATTRIBUTE_TYPE.float, f: value.float };
  if ('string' in value) return { name, type: ONNX_ATTRIBUTE_TYPE.string, s: enc.encode(value.string) };
  if ('ints' in value) return { name, type: ONNX_ATTRIBUTE_TYPE.ints, ints: [...value.ints] };
  if ('floats' in value) return { name, type: ONNX_ATTRIBUTE_TYPE.floats, floats: [...value.floats] };
  if ('strings' in value) return { name, type: ONNX_ATTRIBUTE_TYPE.strings, strings: value.strings.map((s) => enc.encode(s)) };
  return { name, type: ONNX_ATTRIBUTE_TYPE.tensor, t: protoTensor('', value.tensor) };
}

function valueInfo(name: string, type: OnnxElementType, dims: readonly OnnxDim[]): ProtoValueInfo {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: ONNX_DATA_TYPE[type],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

export class OnnxGraphBuilder {
  private readonly inputs: ProtoValueInfo[] = [];
  private readonly outputs: ProtoValueInfo[] = [];
  private readonly initializers: ProtoTensor[] = [];
  private readonly nodes: ProtoNode[] = [];
  private readonly names = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`ONNX graph ${this.name}: the name "${name}" is defined twice`);
    this.names.add(name);
    return name;
  }

  /** A fresh tensor name with the given prefix, for intermediate values. */
  fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.counter++}`;
    while (this.names.has(name));
    return name;
  }

  input(name: string, type: OnnxElementType, dims: readonly OnnxDim[]): string {
    this.inputs.push(valueInfo(this.claim(name), type, dims));
    return name;
  }

  output(name: string, type: OnnxElementType, dims: readonly OnnxDim[]): string {
    this.outputs.push(valueInfo(name, type, dims));
    return name;
  }

  initializer(name: string, type: OnnxTensorValue['type'], dims: readonly number[], data: OnnxTensorValue['data']): string {
    this.initializers.push(protoTensor(this.claim(name), { type, dims, data }));
    return name;
  }

  /**
   * Adds a node. `outputs` may be a number: that many fresh names are made and returned.
   * Returns the output names, so that nodes chain: `const [h] = g.node('Relu', [x], 1)`.
   */
  node(opType: string, inputs: readonly string[], outputs: 1, attributes?: Record<string, OnnxAttribute>, domain?: string): [string];
  node(opType: string, inputs: readonly string[], outputs: readonly string[] | number, attributes?: Record<string, OnnxAttribute>, domain?: string): string[];
  node(
    opType: string,
    inputs: readonly string[],
    outputs: readonly string[] | number,
    attributes: Record<string, OnnxAttribute> = {},
    domain = '',
  ): string[] {
    const outs =
      typeof outputs === 'number'
        ? Array.from({ length: outputs }, () => this.fresh(opType.toLowerCase()))
        : [...outputs];
    for (const o of outs) this.claim(o);
    this.nodes.push({
      name: this.fresh(`node_${opType}`),
      op_type: opType,
      domain,
      input: [...inputs],
      output: outs,
      attribute: Object.entries(attributes).map(([k, v]) => protoAttribute(k, v)),
    });
    return outs;
  }

  /** Serialized ModelProto. */
  toBytes(options: OnnxModelOptions = {}): Uint8Array {
    const opsets = [{ domain: '', version: options.opset ?? 17 }];
    for (const [domain, version] of Object.entries(options.extraOpsets ?? {})) opsets.push({ domain, version });
    const model = {
      ir_version: options.irVersion ?? 8,
      opset_import: opsets,
      producer_name: options.producerName ?? 'refinery',
      producer_version: '0.1.0',
      doc_string: options.docString ?? '',
      graph: {
        name: this.name,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
      metadata_props: Object.entries(options.metadata ?? {}).map(([key, value]) => ({ key, value })),
    };
    const err = ModelProto.verify(model);
    if (err) throw new Error(`ONNX graph ${this.name}: ${err}`);
    return ModelProto.encode(ModelProto.fromObject(model)).finish();
  }
}
