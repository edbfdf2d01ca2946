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
  const words = wordHashes(normalizeText(text, NORM), 0x7365);
  const counter = new FeatureCounter(s.buckets);
  const n = counter.count(words.a, words.count, s);
  const weights = new Float32Array(n);
  for (let i = 0; i < n; i++) weights[i] = 1 + Math.log(counter.counts[counter.ids[i]]);
  return { ids: counter.ids.slice(0, n), weights };
}

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
    let size = 0;
    for (let n = 1; n <= s.maxN; n++) {
      for (let i = 0; i + n <= words; i++) {
        let h = 0x6e67 + n;
        for (let j = i; j < i + n; j++) h = mix32(h, wh[j]);
        const id = 1 + (fmix32(h) % s.buckets);
        if (counts[id] !== 0) counts[id]++;
        else if (size < s.maxFeatures) {
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
function projectionTable(s: HashedNgramSettings): Float32Array {
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
  private readonly counter: FeatureCounter;
  private readonly sums: Float64Array;

  private constructor(
    /** Row `id` (1..buckets) is feature id's Gaussian vector; row 0 (padding) is zero. */
    private readonly table: Float32Array,
    readonly settings: HashedNgramSettings,
  ) {
    this.counter = new FeatureCounter(settings.buckets);
    this.sums = new Float64Array(settings.dim);
  }

  static async create(settings: Partial<HashedNgramSettings> = {}): Promise<HashedNgramEmbedder> {
    const s = { ...DEFAULT_HASHED_NGRAM, ...settings };
    return new HashedNgramEmbedder(projectionTable(s), s);
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

  /** Writes the embedding of `text` to `out[at .. at + dim)`. */
  private embedOne(text: string, out: Float32Array, at: number): void {
    const { dim } = this.settings;
    const { table, sums, counter } = this;
    const words = wordHashes(normalizeText(text, NORM), 0x7365);
    const n = counter.count(words.a, words.count, this.settings);
    const { ids, counts } = counter;
    sums.fill(0);
    // Four rows per pass over the sums: 2.5x faster than one (fewer loads and stores of sums).
    let f = 0;
    for (; f + 3 < n; f += 4) {
      const r0 = ids[f] * dim;
      const r1 = ids[f + 1] * dim;
      const r2 = ids[f + 2] * dim;
      const r3 = ids[f + 3] * dim;
      const w0 = 1 + Math.log(counts[ids[f]]);
      const w1 = 1 + Math.log(counts[ids[f + 1]]);
      const w2 = 1 + Math.log(counts[ids[f + 2]]);
      const w3 = 1 + Math.log(counts[ids[f + 3]]);
      for (let d = 0; d < dim; d++) sums[d] += w0 * table[r0 + d] + w1 * table[r1 + d] + w2 * table[r2 + d] + w3 * table[r3 + d];
    }
    for (; f < n; f++) {
      const row = ids[f] * dim;
      const w = 1 + Math.log(counts[ids[f]]);
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
