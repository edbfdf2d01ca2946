/**
 * The default embedding model of semantic dedup, built in code (nothing downloaded): hashed word
 * 1-, 2- and 3-grams of the normalised text, each with a fixed random Gaussian vector (a random
 * projection of the sparse n-gram count vector, Johnson–Lindenstrauss), weighted 1 + ln(tf),
 * summed and L2-normalised. The cosine of two embeddings estimates the cosine of the documents'
 * n-gram vectors (error ~1/sqrt(dim)): it finds documents that share most of their wording even
 * when reordered or lightly rewritten, not paraphrases in other words. The projection runs as an
 * ONNX graph (Gather → Mul → ReduceSum → LpNormalization) in onnxruntime-node; the featuriser
 * (tokenising and hashing) runs in TypeScript.
 */
import { OnnxGraphBuilder } from '../../pipeline/onnx/builder.ts';
import { OnnxSession } from '../../pipeline/onnx/session.ts';
import { hashString32, mix32, fmix32, splitMix32 } from '../../pipeline/hash.ts';
import { normalizationSchema, normalizeText, wordsOf } from '../normalize-text.ts';
import type { Embedder } from './embedder.ts';

export interface HashedNgramSettings {
  /** Hash buckets of the n-gram features (rows of the projection). */
  buckets: number;
  dim: number;
  /** Largest n of word n-grams (1 = bag of words). */
  maxN: number;
  /** Distinct features per document beyond which the rest are ignored (first seen are kept). */
  maxFeatures: number;
  seed: number;
}

export const DEFAULT_HASHED_NGRAM: HashedNgramSettings = { buckets: 1 << 15, dim: 256, maxN: 3, maxFeatures: 4096, seed: 0 };

const NORM = normalizationSchema.parse({});

/** Feature ids (1..buckets; 0 is padding) and weights of a text. */
export function hashedFeatures(text: string, s: HashedNgramSettings): { ids: number[]; weights: number[] } {
  const words = wordsOf(normalizeText(text, NORM));
  const wh = words.map((w) => hashString32(w, 0x7365));
  const counts = new Map<number, number>();
  for (let n = 1; n <= s.maxN; n++) {
    for (let i = 0; i + n <= wh.length; i++) {
      let h = 0x6e67 + n;
      for (let j = i; j < i + n; j++) h = mix32(h, wh[j]);
      const id = 1 + (fmix32(h) % s.buckets);
      const c = counts.get(id);
      if (c !== undefined) counts.set(id, c + 1);
      else if (counts.size < s.maxFeatures) counts.set(id, 1);
    }
  }
  const ids: number[] = [];
  const weights: number[] = [];
  for (const [id, c] of counts) {
    ids.push(id);
    weights.push(1 + Math.log(c));
  }
  return { ids, weights };
}

/** Standard normal values from a seed (Box–Muller over SplitMix32). */
export function gaussians(count: number, seed: number): Float32Array {
  const next = splitMix32(seed);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i += 2) {
    const u = (next() + 1) / 4294967297;
    const v = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** The ONNX graph: ids [batch, len] int64, weights [batch, len] float → embedding [batch, dim]. */
export function buildHashedNgramModel(s: HashedNgramSettings): Uint8Array {
  const g = new OnnxGraphBuilder('refinery_hashed_ngram_embedding');
  g.input('ids', 'int64', ['batch', 'len']);
  g.input('weights', 'float32', ['batch', 'len']);
  const table = gaussians((s.buckets + 1) * s.dim, s.seed ^ 0x656d62);
  table.fill(0, 0, s.dim); // padding row
  g.initializer('projection', 'float32', [s.buckets + 1, s.dim], table);
  g.initializer('axis_2', 'int64', [1], [2]);
  g.initializer('axis_1', 'int64', [1], [1]);
  const [vectors] = g.node('Gather', ['projection', 'ids'], 1, { axis: { int: 0 } });
  const [w3] = g.node('Unsqueeze', ['weights', 'axis_2'], 1);
  const [weighted] = g.node('Mul', [vectors, w3], 1);
  const [sum] = g.node('ReduceSum', [weighted, 'axis_1'], 1, { keepdims: { int: 0 } });
  g.node('LpNormalization', [sum], ['embedding'], { axis: { int: 1 }, p: { int: 2 } });
  g.output('embedding', 'float32', ['batch', s.dim]);
  return g.toBytes({ docString: `hashed word 1..${s.maxN}-gram random projection, ${s.buckets} buckets, dim ${s.dim}, seed ${s.seed}` });
}

export class HashedNgramEmbedder implements Embedder {
  private constructor(
    private readonly session: OnnxSession,
    readonly settings: HashedNgramSettings,
  ) {}

  static async create(settings: Partial<HashedNgramSettings> = {}): Promise<HashedNgramEmbedder> {
    const s = { ...DEFAULT_HASHED_NGRAM, ...settings };
    return new HashedNgramEmbedder(await OnnxSession.load(buildHashedNgramModel(s)), s);
  }

  get dim(): number {
    return this.settings.dim;
  }

  get description(): string {
    const s = this.settings;
    return `hashed word 1..${s.maxN}-grams, ${s.buckets} buckets, random projection to ${s.dim} dims (seed ${s.seed})`;
  }

  async embed(texts: string[]): Promise<Float32Array> {
    const feats = texts.map((t) => hashedFeatures(t, this.settings));
    const len = Math.max(1, ...feats.map((f) => f.ids.length));
    const ids = new BigInt64Array(texts.length * len);
    const weights = new Float32Array(texts.length * len);
    feats.forEach((f, r) => {
      for (let i = 0; i < f.ids.length; i++) {
        ids[r * len + i] = BigInt(f.ids[i]);
        weights[r * len + i] = f.weights[i];
      }
    });
    const out = await this.session.run({
      ids: { type: 'int64', data: ids, dims: [texts.length, len] },
      weights: { type: 'float32', data: weights, dims: [texts.length, len] },
    });
    return Float32Array.from(out.embedding.data as Float32Array);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
