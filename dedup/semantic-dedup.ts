/**
 * Embedding dedup (after SemDeDup, Abbas et al. 2023): embed every document with an ONNX model,
 * bucket the embeddings by random-hyperplane LSH (SimHash bands) instead of k-means, verify
 * candidates by cosine ≥ threshold, cluster by union-find and keep the earliest document of each
 * cluster. The built-in model (dedup/semantic/hashed-ngram-embedder.ts) is a lexical
 * near-duplicate embedder: hashed word n-grams, so it finds shared wording, not shared meaning.
 * Semantic duplicates need a sentence-embedding ONNX model with its tokenizer.json (`model: <folder>`).
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import type { Doc } from '../pipeline/doc.ts';
import { defineStage } from '../pipeline/stage.ts';
import { docDedupStage, type EmitKey, type PartitionVerifier } from './doc-dedup-stage.ts';
import { SideDataReader, SideDataWriter } from './side-data.ts';
import { workFiles } from './work-files.ts';
import { refKey } from './records.ts';
import { SimHashBands } from './semantic/simhash.ts';
import { cosine, type Embedder } from './semantic/embedder.ts';
import { DEFAULT_HASHED_NGRAM, HashedNgramEmbedder } from './semantic/hashed-ngram-embedder.ts';
import { OnnxSentenceEmbedder } from './semantic/onnx-sentence-embedder.ts';

export const semanticDedupOptions = z.object({
  model: z.string().optional().describe('Folder with model.onnx + tokenizer.json (any type: WordPiece, Unigram, BPE) of a sentence-embedding model, for semantic duplicates; absent: the built-in lexical near-duplicate embedder (hashed word n-grams: shared wording, not meaning).'),
  max_tokens: z.number().int().min(8).optional().describe("Tokens per document for a plug-in model (default: the tokenizer's max_length)."),
  threshold: z.number().min(-1).max(1).default(0.95).describe('Duplicates have cosine ≥ threshold. SemDeDup/NeMo use 1 − ε with ε = 0.01 for transformer embeddings; with the built-in model 0.95 corresponds to word 5-gram Jaccard ≈ 0.7 (docs/dedup.md, measured on injected pairs).'),
  bands: z.number().int().min(1).max(256).default(20).describe('SimHash bands × rows bits: a pair at cosine 0.95 becomes a candidate with p ≈ 0.98, at 0.3 with p ≈ 0.004.'),
  rows: z.number().int().min(1).max(64).default(16).describe('SimHash bits per band (see bands).'),
  batch_size: z.number().int().min(1).default(32).describe('Documents per ONNX run of a plug-in model (the built-in model embeds one document at a time).'),
  max_comparisons: z.number().int().min(1).default(16).describe('Earlier members of a bucket that a document is compared with.'),
  hashed_ngram: z
    .object({
      buckets: z.number().int().min(16).default(DEFAULT_HASHED_NGRAM.buckets).describe('Hash buckets of the n-gram features.'),
      dim: z.number().int().min(8).default(DEFAULT_HASHED_NGRAM.dim).describe('Embedding dimension.'),
      max_n: z.number().int().min(1).max(5).default(DEFAULT_HASHED_NGRAM.maxN).describe('Largest word n-gram.'),
    })
    .strict()
    .default({ buckets: DEFAULT_HASHED_NGRAM.buckets, dim: DEFAULT_HASHED_NGRAM.dim, max_n: DEFAULT_HASHED_NGRAM.maxN })
    .describe('Built-in model: hash buckets, dimension and largest word n-gram.'),
  seed: z.number().int().optional().describe("Seed of the built-in model and the SimHash projections; the run's seed when absent."),
  partitions: z.number().int().min(1).max(65536).default(16).describe('Reduce tasks (partitions of the band keys).'),
}).strict();
export type SemanticDedupOptions = z.infer<typeof semanticDedupOptions>;

/** One model per process and settings: ONNX sessions are costly to build and live as long as the worker. */
const embedders = new Map<string, Promise<Embedder>>();

function embedderFor(o: SemanticDedupOptions, baseDir: string, seed: number): Promise<Embedder> {
  const dir = o.model === undefined ? undefined : resolve(baseDir, o.model);
  const key = JSON.stringify([dir, o.max_tokens, o.hashed_ngram, seed]);
  let e = embedders.get(key);
  if (!e) {
    e = dir
      ? OnnxSentenceEmbedder.load(dir, o.max_tokens)
      : HashedNgramEmbedder.create({ buckets: o.hashed_ngram.buckets, dim: o.hashed_ngram.dim, maxN: o.hashed_ngram.max_n, maxFeatures: DEFAULT_HASHED_NGRAM.maxFeatures, seed });
    embedders.set(key, e);
    e.catch(() => embedders.delete(key));
  }
  return e;
}

/** SimHash hyperplanes per process and settings: every task of the stage creates the stage again. */
const simHashes = new Map<string, SimHashBands>();

function simHashFor(dim: number, bands: number, rows: number, seed: number): SimHashBands {
  const key = `${dim}/${bands}/${rows}/${seed}`;
  let h = simHashes.get(key);
  if (!h) simHashes.set(key, (h = new SimHashBands(dim, bands, rows, seed)));
  return h;
}

export const semanticDedupStage = defineStage<SemanticDedupOptions>({
  name: 'semantic-dedup',
  kind: 'global',
  description: 'Removes near-duplicates by embedding cosine (SimHash LSH buckets, cosine >= threshold, one kept per cluster). Built-in model: a lexical near-duplicate embedder (hashed word n-grams); semantic duplicates need a sentence-embedding ONNX model (`model`)',
  options: semanticDedupOptions,
  async create(o, ctx) {
    const seed = o.seed ?? ctx.seed;
    const embedder = await embedderFor(o, ctx.baseDir, seed);
    const vectorsPath = (shard: number) => workFiles.sideData(ctx.workDir, 'embeddings', shard);
    return docDedupStage({
      name: 'semantic-dedup',
      rule: 'semantic',
      partitions: o.partitions,
      workDir: ctx.workDir,
      files: ctx.files,
      outputDir: ctx.outputDir,
      maxComparisons: o.max_comparisons,
      settings: {
        model: o.model === undefined ? `built-in lexical near-duplicate embedder: ${embedder.description}` : embedder.description,
        dim: embedder.dim,
        threshold: o.threshold,
        bands: o.bands,
        rows: o.rows,
      },
      keyer(shard) {
        const lsh = simHashFor(embedder.dim, o.bands, o.rows, seed);
        const vectors = new SideDataWriter(vectorsPath(shard));
        let pending: { doc: Doc; emit: EmitKey }[] = [];
        const flush = async (): Promise<void> => {
          if (pending.length === 0) return;
          const batch = pending;
          pending = [];
          const m = await embedder.embed(batch.map((p) => p.doc.text));
          const dim = embedder.dim;
          batch.forEach((p, r) => {
            const row = m.slice(r * dim, (r + 1) * dim);
            vectors.add(new Uint8Array(row.buffer));
            if (p.doc.text.trim().length === 0) return;
            const keys = lsh.keys(m, r * dim);
            for (let b = 0; b < o.bands; b++) p.emit(keys[2 * b]!, keys[2 * b + 1]!);
          });
        };
        return {
          async add(doc, _pos, emit) {
            pending.push({ doc, emit });
            if (pending.length >= o.batch_size) await flush();
          },
          async finish() {
            await flush();
            await vectors.finish();
          },
        };
      },
      async verifier(): Promise<PartitionVerifier> {
        const vectors = new SideDataReader(ctx.files, vectorsPath);
        // A document is compared with up to max_comparisons earlier members of each bucket it
        // shares, and they with the next: many vectors are asked for several times. Keeping the
        // last 1,024 read (1 KB each at dim 256) saves about a third of the reads (two per candidate
        // pair without it) on the input of bench/pipeline.bench.ts.
        const recent = new Map<number, Float32Array>();
        const read = async (shard: number, pos: number): Promise<Float32Array> => {
          const key = refKey(shard, pos);
          let v = recent.get(key);
          if (!v) {
            const b = await vectors.get(shard, pos);
            v = new Float32Array(b.buffer, b.byteOffset, b.byteLength / 4);
            if (recent.size === 1024) recent.clear();
            recent.set(key, v);
          }
          return v;
        };
        return {
          async same(a, b) {
            return cosine(await read(a.shard, a.pos), await read(b.shard, b.pos)) >= o.threshold;
          },
          close: () => vectors.close(),
        };
      },
    });
  },
});

/** This module's stages, for the registry. */
export const stages = [semanticDedupStage];
