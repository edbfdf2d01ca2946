/**
 * Runs a fastText-style model.onnx on batches of feature arrays, one of two ways with the same
 * float32 scores: split, pooling with the WebAssembly kernel (pooling.wat) and running a graph of
 * the layers alone, when the file is exactly the graph export-onnx.ts writes and the kernel can
 * hold its table; else the whole graph in ONNX Runtime. The split path does the embedding bag in
 * a fraction of ONNX Runtime's CPU (bench/classifiers.bench.ts measures both).
 */
import { readFile } from 'node:fs/promises';
import { fastTextFeeds, fastTextLayersToOnnx, fastTextModelOfOnnx } from './export-onnx.ts';
import { PoolingKernel } from './pooling-kernel.ts';
import { OnnxSession, type OnnxSessionOptions } from '../../pipeline/onnx/session.ts';

export interface FastTextOnnx {
  /** True when the kernel pools and ONNX Runtime runs the layers alone. */
  readonly split: boolean;
  /** Scores of a batch, row-major [batch.length × outputs]. */
  scores(batch: readonly Int32Array[]): Promise<Float32Array>;
  close(): Promise<void>;
}

/** How a model.onnx is opened: ONNX Runtime's threads per session, and whether the split path may run. */
export interface FastTextOnnxOptions extends Pick<OnnxSessionOptions, 'threads'> {
  /** Run the whole graph even where the split path could: the reference the split path is compared with. */
  whole?: boolean;
}

/** A model.onnx file (or its bytes) written by export-onnx.ts, or any graph with its inputs. */
export async function openFastTextOnnx(model: string | Uint8Array, options: FastTextOnnxOptions = {}): Promise<FastTextOnnx> {
  const threads = options.threads ?? 1;
  if (!options.whole) {
    // An unreadable file is left to OnnxSession.load, whose error names it.
    const bytes = typeof model === 'string' ? await readFile(model).catch(() => undefined) : model;
    const parsed = bytes && fastTextModelOfOnnx(bytes);
    const kernel = parsed && PoolingKernel.create(parsed.embedding, parsed.shape.buckets, parsed.shape.dim);
    if (parsed && kernel) return new SplitGraph(kernel, await OnnxSession.load(fastTextLayersToOnnx(parsed), { threads }));
  }
  return new WholeGraph(await OnnxSession.load(model, { threads }));
}

class WholeGraph implements FastTextOnnx {
  readonly split = false;

  constructor(private readonly session: OnnxSession) {}

  async scores(batch: readonly Int32Array[]): Promise<Float32Array> {
    if (batch.length === 0) return new Float32Array(0);
    const feeds = fastTextFeeds(batch);
    const n = feeds.ids.length;
    const out = await this.session.run({
      ids: { type: 'int32', data: feeds.ids, dims: [n] },
      bag: { type: 'int32', data: feeds.bag, dims: [n] },
      weights: { type: 'float32', data: feeds.weights, dims: [n] },
    });
    return out.scores!.data as Float32Array;
  }

  close(): Promise<void> {
    return this.session.close();
  }
}

class SplitGraph implements FastTextOnnx {
  readonly split = true;

  constructor(
    private readonly kernel: PoolingKernel,
    private readonly layers: OnnxSession,
  ) {}

  async scores(batch: readonly Int32Array[]): Promise<Float32Array> {
    if (batch.length === 0) return new Float32Array(0);
    const pooled = this.kernel.pool(batch);
    const out = await this.layers.run({ pooled: { type: 'float32', data: pooled, dims: [batch.length, this.kernel.dim] } });
    return out.scores!.data as Float32Array;
  }

  close(): Promise<void> {
    return this.layers.close();
  }
}
