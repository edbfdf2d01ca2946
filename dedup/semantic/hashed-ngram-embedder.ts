/**
 * The default embedding model of semantic dedup, built in code (nothing downloaded): hashed word
 * 1-, 2- and 3-grams of the normalised text, each with a fixed random Gaussian vector (a random
 * projection of the sparse n-gram count vector, Johnson–Lindenstrauss), weighted 1 + ln(tf),
 * summed and L2-normalised. The cosine of two embeddings estimates the cosine of the documents'
 * n-gram vectors (error ~1/sqrt(dim)): it finds documents that share most of their wording even
 * when reordered or lightly rewritten, not paraphrases in other words. The projection is a sparse
 * sum computed here (float64 sums, in WebAssembly SIMD: projection-sums.ts; float32 result): only
 * the rows of the features a document has are read, where the same computation as an ONNX graph
 * (`buildHashedNgramModel`, Gather → Mul → ReduceSum → LpNormalization) materialises a
 * [batch, longest document, dim] tensor padded to the batch's longest document, several times
 * the work (bench/dedup.bench.ts measures the embedding speed).
 */
import { OnnxGraphBuilder } from '../../pipeline/onnx/builder.ts';
import { mix32, fmix32, splitMix32 } from '../../pipeline/hash.ts';
import { normalizationSchema, normalizeText, wordHashes } from '../normalize-text.ts';
import type { Embedder } from './embedder.ts';
import { ProjectionSums } from './projection-sums.ts';

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

/** Feature ids (1..buckets; 0 is padding) and weights of a text, in order of first occurrence. */
export function hashedFeatures(text: string, s: HashedNgramSettings): { ids: Int32Array; weights: Float32Array } {
  const { ids, counts } = featureCounts(text, s);
  const weights = new Float32Array(ids.length);
  for (let i = 0; i < ids.length; i++) weights[i] = featureWeight(counts[i]!);
  return { ids, weights };
}

/** Feature ids of a text in order of first occurrence, and how often each occurs. */
export function featureCounts(text: string, s: HashedNgramSettings): { ids: Int32Array; counts: Uint32Array } {
  const words = wordHashes(normalizeText(text, NORM), 0x7365);
  const counter = new FeatureCounter(s.buckets);
  const n = counter.count(words.a, words.count, s);
  const ids = counter.ids.slice(0, n);
  return { ids, counts: Uint32Array.from(ids, (id) => counter.counts[id]!) };
}

/** The weight of a feature seen `count` times: 1 + ln(tf). */
export function featureWeight(count: number): number {
  return count < LOG_WEIGHTS.length ? LOG_WEIGHTS[count]! : 1 + Math.log(count);
}

/** `1 + Math.log(c)` for the small counts most features have (the same numbers, looked up). */
const LOG_WEIGHTS = Float64Array.from({ length: 64 }, (_, c) => 1 + Math.log(c));

/** Counts of hashed n-gram features in a reusable table indexed by feature id. */
class FeatureCounter {
  readonly counts: Uint32Array;
  ids: Int32Array = new Int32Array(1024);

  constructor(buckets: number) {
    this.counts = new Uint32Array(buckets + 1);
  }

  /** Counts the features of one document's word hashes; returns how many distinct (in `ids`). */
  count(wh: Int32Array, words: number, s: HashedNgramSettings): number {
    for (let i = 0; i < this.size; i++) this.counts[this.ids[i]!] = 0;
    const counts = this.counts;
    const { buckets, maxN, maxFeatures } = s;
    // x % buckets of a uint32 is a float modulo; with the usual power-of-two buckets a mask gives the
    // same ids for less work (counting is part of the embedding speed bench/dedup.bench.ts measures).
    const mask = (buckets & (buckets - 1)) === 0 ? buckets - 1 : -1;
    let size = 0;
    for (let n = 1; n <= maxN; n++) {
      for (let i = 0; i + n <= words; i++) {
        let h = 0x6e67 + n;
        for (let j = i; j < i + n; j++) h = mix32(h, wh[j]!);
        const id = 1 + (mask >= 0 ? fmix32(h) & mask : fmix32(h) % buckets);
        if (counts[id] !== 0) counts[id]!++;
        else if (size < maxFeatures) {
          counts[id] = 1;
          if (size === this.ids.length) {
            const grown = new Int32Array(size * 2);
            grown.set(this.ids);
            this.ids = grown;
          }
          this.ids[size++] = id;
        }
      }
    }
    this.size = size;
    return size;
  }

  private size = 0;
}

interface BuiltModel {
  projection: ProjectionSums;
  counter: FeatureCounter;
  /** The weights of the current document's features (grown as needed). */
  weights: Float64Array;
}

/** Standard normal values from a seed (Box–Muller over SplitMix32), in `out` when given. */
export function gaussians(count: number, seed: number, out: Float32Array = new Float32Array(count)): Float32Array {
  const next = splitMix32(seed);
  for (let i = 0; i < count; i += 2) {
    const u = (next() + 1) / 4294967297;
    const v = next() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u));
    out[i] = r * Math.cos(2 * Math.PI * v);
    if (i + 1 < count) out[i + 1] = r * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** The projection: row `id` is feature id's Gaussian vector, row 0 (padding) zero. */
export function projectionTable(s: HashedNgramSettings, out: Float32Array = new Float32Array((s.buckets + 1) * s.dim)): Float32Array {
  const table = gaussians((s.buckets + 1) * s.dim, s.seed ^ 0x656d62, out);
  table.fill(0, 0, s.dim);
  return table;
}

/**
 * The same model as an ONNX graph (ids [batch, len] int64, weights [batch, len] float →
 * embedding [batch, dim]), for use outside Refinery; `HashedNgramEmbedder` computes it directly
 * and agrees with it to float32 rounding (tests/dedup-semantic.test.ts).
 */
export function buildHashedNgramModel(s: HashedNgramSettings): Uint8Array {
  const g = new OnnxGraphBuilder('refinery_hashed_ngram_embedding');
  g.input('ids', 'int64', ['batch', 'len']);
  g.input('weights', 'float32', ['batch', 'len']);
  g.initializer('projection', 'float32', [s.buckets + 1, s.dim], projectionTable(s));
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
  private built: BuiltModel | undefined;

  private constructor(readonly settings: HashedNgramSettings) {}

  static async create(settings: Partial<HashedNgramSettings> = {}): Promise<HashedNgramEmbedder> {
    return new HashedNgramEmbedder({ ...DEFAULT_HASHED_NGRAM, ...settings });
  }

  /**
   * Made at the first embedding: the stage is created for every task, and its reduce, merge and
   * apply tasks need the dimension and description, not the table (8.4 M Gaussians, 33 MB with the
   * default settings).
   */
  private get model(): BuiltModel {
    if (!this.built) {
      const s = this.settings;
      const projection = new ProjectionSums(s.buckets + 1, s.dim);
      projectionTable(s, projection.table);
      this.built = { projection, counter: new FeatureCounter(s.buckets), weights: new Float64Array(1024) };
    }
    return this.built;
  }

  get dim(): number {
    return this.settings.dim;
  }

  get description(): string {
    const s = this.settings;
    return `hashed word 1..${s.maxN}-grams, ${s.buckets} buckets, random projection to ${s.dim} dims (seed ${s.seed})`;
  }

  async embed(texts: string[]): Promise<Float32Array> {
    const dim = this.settings.dim;
    const out = new Float32Array(texts.length * dim);
    for (let r = 0; r < texts.length; r++) this.embedOne(texts[r]!, out, r * dim);
    return out;
  }

  /**
   * Writes the embedding of `text` to `out[at .. at + dim)`. The arithmetic order is part of the
   * output (float64 sums, rounded once to float32): features in order of first occurrence, added
   * four at a time as `sums[d] += w0·t0 + w1·t1 + w2·t2 + w3·t3`, then one at a time for the last
   * n mod 4 (`ProjectionSums.sum`; tests/dedup-semantic.test.ts checks it bit for bit).
   */
  private embedOne(text: string, out: Float32Array, at: number): void {
    const { dim } = this.settings;
    const model = this.model;
    const { projection, counter } = model;
    const words = wordHashes(normalizeText(text, NORM), 0x7365);
    const n = counter.count(words.a, words.count, this.settings);
    const { ids, counts } = counter;
    if (model.weights.length < n) model.weights = new Float64Array(ids.length);
    const weights = model.weights;
    for (let f = 0; f < n; f++) weights[f] = featureWeight(counts[ids[f]!]!);
    projection.sum(ids, weights, n);
    const sums = projection.sums;
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += sums[d]! * sums[d]!;
    if (norm === 0) return;
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < dim; d++) out[at + d] = sums[d]! * inv;
  }

  async close(): Promise<void> {}
}
