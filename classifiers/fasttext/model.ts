/**
 * The fastText-style model: the mean of the embedding rows of a document's hashed features
 * (an embedding bag), then a linear layer, or a small ReLU hidden layer and a linear layer.
 * Classification ends in a softmax over the classes; regression in one value, scaled back from
 * the standardised target it was trained on. Weights are float32, exactly what the ONNX graph holds.
 */
export type TaskKind = 'binary' | 'multiclass' | 'regression';

export interface FastTextShape {
  task: TaskKind;
  buckets: number;
  dim: number;
  /** 0 = linear model. */
  hidden: number;
  /** Classes (2 for binary); 1 for regression. */
  outputs: number;
}

export class FastTextModel {
  readonly embedding: Float32Array;
  /** hidden > 0: dim × hidden, else unused (length 0). */
  readonly w1: Float32Array;
  readonly b1: Float32Array;
  /** (hidden || dim) × outputs. */
  readonly w2: Float32Array;
  readonly b2: Float32Array;
  /** Regression only: prediction = raw × targetScale + targetShift. */
  targetShift = 0;
  targetScale = 1;

  constructor(readonly shape: FastTextShape) {
    const { buckets, dim, hidden, outputs } = shape;
    this.embedding = new Float32Array(buckets * dim);
    this.w1 = new Float32Array(hidden > 0 ? dim * hidden : 0);
    this.b1 = new Float32Array(hidden);
    this.w2 = new Float32Array((hidden > 0 ? hidden : dim) * outputs);
    this.b2 = new Float32Array(outputs);
  }

  get inner(): number {
    return this.shape.hidden > 0 ? this.shape.hidden : this.shape.dim;
  }

  /** Mean embedding of the features into `out` (length dim). */
  bag(ids: Int32Array, out: Float64Array): void {
    const { dim } = this.shape;
    out.fill(0);
    const e = this.embedding;
    for (let k = 0; k < ids.length; k++) {
      const base = ids[k]! * dim;
      for (let d = 0; d < dim; d++) out[d]! += e[base + d]!;
    }
    const inv = 1 / ids.length;
    for (let d = 0; d < dim; d++) out[d]! *= inv;
  }

  /** Hidden activations (ReLU) into `out` (length hidden); a copy of `h` for a linear model. */
  activate(h: Float64Array, out: Float64Array): void {
    const { dim, hidden } = this.shape;
    if (hidden === 0) {
      out.set(h);
      return;
    }
    for (let j = 0; j < hidden; j++) {
      let s = this.b1[j]!;
      for (let d = 0; d < dim; d++) s += h[d]! * this.w1[d * hidden + j]!;
      out[j] = s > 0 ? s : 0;
    }
  }

  /** Output-layer values (logits or the standardised regression value) into `out`. */
  logits(a: Float64Array, out: Float64Array): void {
    const { outputs } = this.shape;
    const inner = this.inner;
    for (let c = 0; c < outputs; c++) {
      let s = this.b2[c]!;
      for (let j = 0; j < inner; j++) s += a[j]! * this.w2[j * outputs + c]!;
      out[c] = s;
    }
  }

  /**
   * The model's output for one document: class probabilities (softmax) for classification,
   * `[value]` for regression.
   */
  predict(ids: Int32Array): Float64Array {
    const h = new Float64Array(this.shape.dim);
    const a = new Float64Array(this.inner);
    const z = new Float64Array(this.shape.outputs);
    this.bag(ids, h);
    this.activate(h, a);
    this.logits(a, z);
    if (this.shape.task === 'regression') {
      z[0] = z[0]! * this.targetScale + this.targetShift;
      return z;
    }
    softmaxInPlace(z);
    return z;
  }
}

export function softmaxInPlace(z: Float64Array): void {
  let m = -Infinity;
  for (let c = 0; c < z.length; c++) if (z[c]! > m) m = z[c]!;
  let s = 0;
  for (let c = 0; c < z.length; c++) {
    z[c] = Math.exp(z[c]! - m);
    s += z[c]!;
  }
  for (let c = 0; c < z.length; c++) z[c]! /= s;
}
