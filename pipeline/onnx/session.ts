/**
 * ONNX Runtime (onnxruntime-node, CPU) behind a small typed surface: load a model from a file
 * or from bytes, run it on named typed arrays, run many rows in batches. One session per
 * worker: `threads` defaults to 1 because the runner already uses one worker per core.
 */
import * as ort from 'onnxruntime-node';
import { RefineryError } from '../errors.ts';

export type OnnxFeedType = 'float32' | 'int64' | 'int32' | 'uint8' | 'bool' | 'string';

/** A tensor handed to `run`: data in row-major order, `dims` its shape. */
export type OnnxFeed =
  | { type: 'float32'; data: Float32Array; dims: readonly number[] }
  | { type: 'int64'; data: BigInt64Array; dims: readonly number[] }
  | { type: 'int32'; data: Int32Array; dims: readonly number[] }
  | { type: 'uint8'; data: Uint8Array; dims: readonly number[] }
  | { type: 'bool'; data: Uint8Array; dims: readonly number[] }
  | { type: 'string'; data: string[]; dims: readonly number[] };

/** A tensor returned by `run`. */
export interface OnnxResult {
  type: string;
  dims: readonly number[];
  data: Float32Array | BigInt64Array | Int32Array | Uint8Array | Float64Array | string[];
}

export interface OnnxSessionOptions {
  /** Threads inside one operator; 1 per worker process (the runner parallelises over shards). */
  threads?: number;
  /** 'all' fuses operators; the default. */
  optimization?: 'disabled' | 'basic' | 'extended' | 'all';
}

export class OnnxSession {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly source: string,
  ) {}

  static async load(model: string | Uint8Array, options: OnnxSessionOptions = {}): Promise<OnnxSession> {
    const opts: ort.InferenceSession.SessionOptions = {
      intraOpNumThreads: options.threads ?? 1,
      interOpNumThreads: 1,
      graphOptimizationLevel: options.optimization ?? 'all',
      executionMode: 'sequential',
      logSeverityLevel: 3,
    };
    const source = typeof model === 'string' ? model : `<${model.byteLength} bytes>`;
    try {
      const session =
        typeof model === 'string' ? await ort.InferenceSession.create(model, opts) : await ort.InferenceSession.create(model, opts);
      return new OnnxSession(session, source);
    } catch (err) {
      throw new RefineryError(`cannot load ONNX model ${source}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Runs the model once; returns every output (or only `outputs` when given). */
  async run(feeds: Record<string, OnnxFeed>, outputs?: readonly string[]): Promise<Record<string, OnnxResult>> {
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, f] of Object.entries(feeds)) tensors[name] = new ort.Tensor(f.type, f.data, f.dims);
    const res = outputs ? await this.session.run(tensors, [...outputs]) : await this.session.run(tensors);
    const out: Record<string, OnnxResult> = {};
    for (const [name, value] of Object.entries(res)) {
      const t = value as ort.Tensor;
      out[name] = { type: t.type, dims: t.dims, data: t.data as OnnxResult['data'] };
      t.dispose();
    }
    return out;
  }

  /**
   * Runs `count` rows in batches of `batchSize`: `feedsFor(start, end)` builds the inputs of
   * rows [start, end), `collect(start, end, outputs)` takes the results. Batches run one after
   * another, so memory stays bounded by one batch.
   */
  async runBatches(
    count: number,
    batchSize: number,
    feedsFor: (start: number, end: number) => Record<string, OnnxFeed>,
    collect: (start: number, end: number, outputs: Record<string, OnnxResult>) => void,
  ): Promise<void> {
    if (!(batchSize >= 1)) throw new RangeError(`batchSize must be ≥ 1, got ${batchSize}`);
    for (let start = 0; start < count; start += batchSize) {
      const end = Math.min(count, start + batchSize);
      collect(start, end, await this.run(feedsFor(start, end)));
    }
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
