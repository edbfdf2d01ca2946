/**
 * The default embedding model of semantic dedup, built in code (nothing downloaded): hashed word
 * 1-, 2- and 3-grams of the normalised text, each with a fixed random Gaussian vector (a random
 * projection of the sparse n-gram count vector, Johnson–Lindenstrauss), weighted 1 + ln(tf),
 * summed and L2-normalised. The cosine of two embeddings estimates the cosine of the documents'
 * n-gram vectors (error ~1/sqrt(dim)): it finds documents that share most of their wording even
 * when reordered or lightly rewritten, not paraphrases in other words. The projection is a sparse
 * sum computed here in TypeScript (float64 sums, float32 result): only the rows of the features a
 * document has are read, where the same computation as an ONNX graph (`buildHashedNgramModel`,
 * Gather → Mul → ReduceSum → LpNormalization) materialised a [batch, longest document, dim]
 * tensor padded to the batch's longest document and ran ~4x slower (issue 16).
 */
import { OnnxGraphBuilder } from '../../pipeline/onnx/builder.ts';
import { mix32, fmix32, splitMix32 } from '../../pipeline/hash.ts';
import { normalizationSchema, normalizeText, wordHashes } from '../normalize-text.ts';
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

/** Feature ids (1..buckets; 0 is padding) and weights of a text, in order of first occurrence. */
export function hashedFeatures(text: string, s: HashedNgramSettings): { ids: Int32Array; weights: Float32Array } {
  const { ids, counts } = featureCounts(text, s);
  const weights = new Float32Array(ids.length);
  for (let i = 0; i < ids.length; i++) weights[i] = featureWeight(counts[i]);
  return { ids, weights };
}

/** Feature ids of a text in order of first occurrence, and how often each occurs. */
export function featureCounts(text: string, s: HashedNgramSettings): { ids: Int32Array; counts: Uint32Array } {
  const words = wordHashes(normalizeText(text, NORM), 0x7365);
  const counter = new FeatureCounter(s.buckets);
  const n = counter.count(words.a, words.count, s);
  const ids = counter.ids.slice(0, n);
  return { ids, counts: Uint32Array.from(ids, (id) => counter.counts[id]) };
}

/** The weight of a feature seen `count` times: 1 + ln(tf). */
export function featureWeight(count: number): number {
  return count < LOG_WEIGHTS.length ? LOG_WEIGHTS[count] : 1 + Math.log(count);
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
    for (let i = 0; i < this.size; i++) this.counts[this.ids[i]] = 0;
    const counts = this.counts;
    const { buckets, maxN, maxFeatures } = s;
    // x % buckets of a uint32 is a float modulo; with the usual power-of-two buckets a mask gives the
    // same ids, and counting takes ~0.45 -> ~0.21 s CPU on the 46 MB pipeline bench's texts.
    const mask = (buckets & (buckets - 1)) === 0 ? buckets - 1 : -1;
    let size = 0;
    for (let n = 1; n <= maxN; n++) {
      for (let i = 0; i + n <= words; i++) {
        let h = 0x6e67 + n;
        for (let j = i; j < i + n; j++) h = mix32(h, wh[j]);
        const id = 1 + (mask >= 0 ? fmix32(h) & mask : fmix32(h) % buckets);
        if (counts[id] !== 0) counts[id]++;
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

/** The projection: row `id` is feature id's Gaussian vector, row 0 (padding) zero. */
export function projectionTable(s: HashedNgramSettings): Float32Array {
  const table = gaussians((s.buckets + 1) * s.dim, s.seed ^ 0x656d62);
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
  private readonly sums: Float64Array;
  private projection: { table: Float32Array; counter: FeatureCounter } | undefined;

  private constructor(readonly settings: HashedNgramSettings) {
    this.sums = new Float64Array(settings.dim);
  }

  static async create(settings: Partial<HashedNgramSettings> = {}): Promise<HashedNgramEmbedder> {
    return new HashedNgramEmbedder({ ...DEFAULT_HASHED_NGRAM, ...settings });
  }

  /**
   * Made at the first embedding: the stage is created for every task, and its reduce, merge and
   * apply tasks need the dimension and description, not the table (8.4 M Gaussians, 33 MB with the
   * default settings, ~0.3 s). Row `id` (1..buckets) is feature id's Gaussian vector, row 0 zero.
   */
  private get model(): { table: Float32Array; counter: FeatureCounter } {
    return (this.projection ??= { table: projectionTable(this.settings), counter: new FeatureCounter(this.settings.buckets) });
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
    for (let r = 0; r < texts.length; r++) this.embedOne(texts[r], out, r * dim);
    return out;
  }

  /**
   * Writes the embedding of `text` to `out[at .. at + dim)`. The arithmetic order is part of the
   * output (float64 sums, rounded once to float32): features in order of first occurrence, added
   * four at a time as `sums[d] += w0·t0 + w1·t1 + w2·t2 + w3·t3`, then one at a time for the last
   * n mod 4 (tests/dedup-semantic.test.ts checks it bit for bit against that definition).
   */
  private embedOne(text: string, out: Float32Array, at: number): void {
    const { dim } = this.settings;
    const { sums } = this;
    const { table, counter } = this.model;
    const words = wordHashes(normalizeText(text, NORM), 0x7365);
    const n = counter.count(words.a, words.count, this.settings);
    const { ids, counts } = counter;
    sums.fill(0);
    // Eight rows per pass over the sums, as two groups of four added in turn (the same additions as
    // two passes of four): ~1.35x faster than four per pass, itself 2.5x faster than one (fewer
    // loads and stores of sums); 46 MB pipeline bench's texts, CPU time.
    let f = 0;
    for (; f + 7 < n; f += 8) {
      const r0 = ids[f] * dim;
      const r1 = ids[f + 1] * dim;
      const r2 = ids[f + 2] * dim;
      const r3 = ids[f + 3] * dim;
      const r4 = ids[f + 4] * dim;
      const r5 = ids[f + 5] * dim;
      const r6 = ids[f + 6] * dim;
      const r7 = ids[f + 7] * dim;
      const w0 = featureWeight(counts[ids[f]]);
      const w1 = featureWeight(counts[ids[f + 1]]);
      const w2 = featureWeight(counts[ids[f + 2]]);
      const w3 = featureWeight(counts[ids[f + 3]]);
      const w4 = featureWeight(counts[ids[f + 4]]);
      const w5 = featureWeight(counts[ids[f + 5]]);
      const w6 = featureWeight(counts[ids[f + 6]]);
      const w7 = featureWeight(counts[ids[f + 7]]);
      for (let d = 0; d < dim; d++) {
        sums[d] = sums[d] + (w0 * table[r0 + d] + w1 * table[r1 + d] + w2 * table[r2 + d] + w3 * table[r3 + d]) + (w4 * table[r4 + d] + w5 * table[r5 + d] + w6 * table[r6 + d] + w7 * table[r7 + d]);
      }
    }
    for (; f + 3 < n; f += 4) {
      const r0 = ids[f] * dim;
      const r1 = ids[f + 1] * dim;
      const r2 = ids[f + 2] * dim;
      const r3 = ids[f + 3] * dim;
      const w0 = featureWeight(counts[ids[f]]);
      const w1 = featureWeight(counts[ids[f + 1]]);
      const w2 = featureWeight(counts[ids[f + 2]]);
      const w3 = featureWeight(counts[ids[f + 3]]);
      for (let d = 0; d < dim; d++) sums[d] += w0 * table[r0 + d] + w1 * table[r1 + d] + w2 * table[r2 + d] + w3 * table[r3 + d];
    }
    for (; f < n; f++) {
      const row = ids[f] * dim;
      const w = featureWeight(counts[ids[f]]);
      for (let d = 0; d < dim; d++) sums[d] += w * table[row + d];
    }
    let norm = 0;
    for (let d = 0; d < dim; d++) norm += sums[d] * sums[d];
    if (norm === 0) return;
    const inv = 1 / Math.sqrt(norm);
    for (let d = 0; d < dim; d++) out[at + d] = sums[d] * inv;
  }

  async close(): Promise<void> {}
}
