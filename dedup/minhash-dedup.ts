/**
 * MinHash/LSH near-duplicate removal with FineWeb's settings (Penedo et al. 2024 §3.4; datatrove
 * `dedup/minhash.py`): word 5-gram shingles of normalised text, 112 hashes as 14 bands × 8 rows,
 * 64-bit hash values, clusters by union-find, one document kept per cluster (the earliest in
 * input order). The 112 values come from 112 independent hash functions as FineWeb, or on request
 * from one-permutation hashing (the same Jaccard error, faster than the independent hashes' loop in
 * WebAssembly SIMD and in scalar code: bench/dedup.bench.ts measures all three). Candidates are verified
 * by default by comparing their full signatures; alternatively by true Jaccard of their shingle
 * sets, by edit similarity (fastest-levenshtein) when both normalised texts are short, or not.
 */
import { z } from 'zod';
import { distance } from 'fastest-levenshtein';
import { defineStage } from '../pipeline/stage.ts';
import { normalizationSchema, normalizedWordHashes, normalizeText, wordHashes } from './normalize-text.ts';
import { docDedupStage, type PartitionVerifier } from './doc-dedup-stage.ts';
import { hiHalves, MinHasher } from './minhash/signature.ts';
import { OnePermutationHasher } from './minhash/one-permutation.ts';
import { bandKeys } from './minhash/bands.ts';
import { jaccard, shingleKeysOfWordHashes, shingleSet, shinglesOfWordHashes, WORD_SEED_A, WORD_SEED_B } from './minhash/shingles.ts';
import { SideDataReader, SideDataWriter } from './side-data.ts';
import { workFiles } from './work-files.ts';

export const minhashDedupOptions = z.object({
  n_grams: z.number().int().min(1).max(64).default(5).describe('Word n-grams per shingle (FineWeb: 5).'),
  num_buckets: z.number().int().min(1).max(512).default(14).describe('Bands (FineWeb: 14).'),
  hashes_per_bucket: z.number().int().min(1).max(64).default(8).describe('Rows per band (FineWeb: 8); hashes = num_buckets × hashes_per_bucket = 112.'),
  hashing: z.enum(['independent', 'one-permutation']).default('independent').describe("How the 112 values are made. 'independent': 112 independent hash functions, as FineWeb; 'one-permutation': one hash per shingle into 112 bins with optimal densification, the same Jaccard error on documents of 100+ words and faster (1.5x the signature speed; docs/dedup.md, bench/dedup.bench.ts)."),
  seed: z.number().int().optional().describe("Seed of the hash family; the run's seed when absent."),
  normalization: normalizationSchema.default(normalizationSchema.parse({})).describe('Text normalisation before shingling (datatrove simplify_text).'),
  verification: z
    .object({
      method: z.enum(['none', 'signature', 'jaccard', 'edit']).default('signature').describe('none, signature, jaccard or edit (see verification).'),
      threshold: z.number().min(0).max(1).default(0.7).describe("Minimum (estimated) Jaccard or edit similarity of a verified pair; near the LSH's own threshold (1/14)^(1/8) ≈ 0.72."),
      edit_max_chars: z.number().int().min(1).default(2000).describe("'edit' compares texts up to this many normalised characters; longer pairs fall back to Jaccard."),
      max_comparisons: z.number().int().min(1).default(8).describe('Earlier bucket members a document is compared with.'),
    })
    .strict()
    .default({ method: 'signature', threshold: 0.7, edit_max_chars: 2000, max_comparisons: 8 })
    .describe("Checks candidates before merging them. FineWeb does not ('none'), which merges ~5% of pairs at Jaccard 0.5 (1 − (1 − 0.5^8)^14); 'signature' compares all 112 hashes of the pair (cheap, σ ≈ 0.04), 'jaccard' their true shingle sets, 'edit' the edit similarity of short texts."),
  partitions: z.number().int().min(1).max(65536).default(16).describe('Reduce tasks (partitions of the band keys).'),
}).strict();
export type MinhashDedupOptions = z.infer<typeof minhashDedupOptions>;

/** Hash tables per process and settings (~1 MB each): every task of the stage creates the stage again. */
const hashers = new Map<string, MinHasher | OnePermutationHasher>();

function hasherFor(hashing: MinhashDedupOptions['hashing'], numHashes: number, seed: number): MinHasher | OnePermutationHasher {
  const key = `${hashing}/${numHashes}/${seed}`;
  let h = hashers.get(key);
  if (!h) hashers.set(key, (h = hashing === 'independent' ? new MinHasher(numHashes, seed) : new OnePermutationHasher(numHashes, seed)));
  return h;
}

export const minhashDedupStage = defineStage<MinhashDedupOptions>({
  name: 'minhash-dedup',
  kind: 'global',
  description: 'Removes near-duplicates by MinHash LSH (FineWeb: 5-grams, 14 bands x 8 rows), one kept per cluster',
  options: minhashDedupOptions,
  create(o, ctx) {
    const numHashes = o.num_buckets * o.hashes_per_bucket;
    const hasher = hasherFor(o.hashing, numHashes, o.seed ?? ctx.seed);
    const method = o.verification.method;
    const K = numHashes;
    const shinglePath = (shard: number) => workFiles.sideData(ctx.workDir, 'shingles', shard);
    const signaturePath = (shard: number) => workFiles.sideData(ctx.workDir, 'signatures', shard);
    const textPath = (shard: number) => workFiles.sideData(ctx.workDir, 'texts', shard);
    return docDedupStage({
      name: 'minhash-dedup',
      rule: 'minhash',
      partitions: o.partitions,
      workDir: ctx.workDir,
      files: ctx.files,
      outputDir: ctx.outputDir,
      maxComparisons: o.verification.max_comparisons,
      settings: { hashing: o.hashing, n_grams: o.n_grams, num_buckets: o.num_buckets, hashes_per_bucket: o.hashes_per_bucket, seed: o.seed ?? ctx.seed, verification: o.verification },
      keyer(shard) {
        const sets = method === 'jaccard' || method === 'edit' ? new SideDataWriter(shinglePath(shard)) : undefined;
        const texts = method === 'edit' ? new SideDataWriter(textPath(shard)) : undefined;
        const signatures = method === 'signature' ? new SideDataWriter(signaturePath(shard)) : undefined;
        const encoder = new TextEncoder();
        return {
          add(doc, _pos, emit) {
            // The normalised text itself is kept only for edit verification.
            const normalized = texts ? normalizeText(doc.text, o.normalization) : undefined;
            const words = normalized === undefined ? normalizedWordHashes(doc.text, o.normalization, WORD_SEED_A, WORD_SEED_B) : wordHashes(normalized, WORD_SEED_A, WORD_SEED_B);
            // Both halves of each shingle only for the exact sets; MinHash hashes the hi half.
            const shingles = sets ? shinglesOfWordHashes(words.a, words.b!, words.count, o.n_grams) : undefined;
            const keys = shingles ? hiHalves(shingles) : shingleKeysOfWordHashes(words.a, words.b!, words.count, o.n_grams);
            if (sets) {
              const set = shingleSet(shingles!);
              sets.add(new Uint8Array(set.buffer, set.byteOffset, set.byteLength));
            }
            if (texts) texts.add(normalized!.length <= o.verification.edit_max_chars ? encoder.encode(normalized!) : new Uint8Array(0));
            if (keys.length === 0) {
              signatures?.add(new Uint8Array(0));
              return;
            }
            const signature = hasher.signatureOfKeys(keys);
            if (signatures) {
              const hi = new Uint32Array(K);
              for (let k = 0; k < K; k++) hi[k] = signature[2 * k]!;
              signatures.add(new Uint8Array(hi.buffer));
            }
            const buckets = bandKeys(signature, o.num_buckets, o.hashes_per_bucket);
            for (let b = 0; b < o.num_buckets; b++) emit(buckets[2 * b]!, buckets[2 * b + 1]!);
          },
          async finish() {
            await sets?.finish();
            await texts?.finish();
            await signatures?.finish();
          },
        };
      },
      verifier:
        method === 'signature'
          ? async (): Promise<PartitionVerifier> => {
              const signatures = new SideDataReader(ctx.files, signaturePath);
              const read = async (shard: number, pos: number): Promise<Uint32Array> => {
                const b = await signatures.get(shard, pos);
                return new Uint32Array(b.buffer, b.byteOffset, b.byteLength / 4);
              };
              return {
                async same(a, b) {
                  const [x, y] = [await read(a.shard, a.pos), await read(b.shard, b.pos)];
                  let equal = 0;
                  for (let k = 0; k < x.length; k++) if (x[k] === y[k]) equal++;
                  return equal / K >= o.verification.threshold;
                },
                close: () => signatures.close(),
              };
            }
          : method !== 'none'
        ? async (): Promise<PartitionVerifier> => {
            const sets = new SideDataReader(ctx.files, shinglePath);
            const texts = o.verification.method === 'edit' ? new SideDataReader(ctx.files, textPath) : undefined;
            const decoder = new TextDecoder();
            const setOf = async (shard: number, pos: number): Promise<Float64Array> => {
              const b = await sets.get(shard, pos);
              return new Float64Array(b.buffer, b.byteOffset, b.byteLength / 8);
            };
            return {
              async same(a, b) {
                if (texts) {
                  const [ta, tb] = [await texts.get(a.shard, a.pos), await texts.get(b.shard, b.pos)];
                  if (ta.byteLength > 0 && tb.byteLength > 0) {
                    const [sa, sb] = [decoder.decode(ta), decoder.decode(tb)];
                    return 1 - distance(sa, sb) / Math.max(sa.length, sb.length, 1) >= o.verification.threshold;
                  }
                }
                return jaccard(await setOf(a.shard, a.pos), await setOf(b.shard, b.pos)) >= o.verification.threshold;
              },
              async close() {
                await sets.close();
                await texts?.close();
              },
            };
          }
        : undefined,
    });
  },
});

/** This module's stages, for the registry. */
export const stages = [minhashDedupStage];
