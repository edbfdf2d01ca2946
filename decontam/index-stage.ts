/**
 * `decontam-index`: a global stage that writes the run's contamination ledger,
 * the n-gram hashes of the documents that reach it (put it last, after dedup and filters, so the
 * ledger is the corpus that ships), partitioned by hash so no reduce task holds more than about
 * 1/partitions of it. It keeps every document. `decontam/check.ts` answers from the ledger alone.
 *   map     per shard: each document's distinct n-grams as records into one sorted file per
 *           partition, and the shard's document ids by position;
 *   reduce  per partition: the shards' files merged into `decontam/part-NNNNN.bin`;
 *   finish  `decontam/manifest.json`.
 */
import { z } from 'zod';
import { defineStage, KEEP, type GlobalStage, type ShardRef, type StageContext } from '../pipeline/stage.ts';
import type { Doc } from '../pipeline/doc.ts';
import { DEFAULT_N, ngramHashes, partitionOf } from './ngrams.ts';
import { readMapRecords, writeManifest, writeMapRecords, writePartition, writeShardIds, readShardIds } from './ledger-files.ts';
import { concatRecords, RecordBuffer, sortUniqueRecords } from './sort-records.ts';

/** Defaults: n = 13 as GPT-3 (Brown et al. 2020, appendix C); partitions *ours*. */
export const decontamIndexOptions = z
  .object({
    n: z.number().int().min(4).max(50).default(DEFAULT_N).describe('Words per n-gram (GPT-3: 13; the Llama 3 paper\'s contamination analysis: 8).'),
    partitions: z.number().int().min(1).max(4096).default(16).describe('Ledger files, by n-gram hash; each reduce task merges one.'),
  })
  .strict();
export type DecontamIndexOptions = z.infer<typeof decontamIndexOptions>;

export function createDecontamIndex(o: DecontamIndexOptions, ctx: StageContext): GlobalStage {
  return {
    kind: 'global',
    name: 'decontam-index',
    partitions: o.partitions,

    async map(shard: ShardRef, docs: AsyncIterable<Doc>): Promise<void> {
      const parts = Array.from({ length: o.partitions }, () => new RecordBuffer());
      const ids: string[] = [];
      for await (const doc of docs) {
        const pos = ids.length;
        ids.push(doc.id);
        const h = ngramHashes(doc.text, o.n);
        for (let i = 0; i < h.length; i += 2) parts[partitionOf(h[i]!, o.partitions)]!.push(h[i]!, h[i + 1]!, shard.index, pos);
      }
      for (let p = 0; p < o.partitions; p++) await writeMapRecords(ctx.workDir, p, shard.index, sortUniqueRecords(parts[p]!.view()));
      await writeShardIds(ctx.outputDir, shard.index, ids);
    },

    async reduce(partition: number, shardCount: number): Promise<void> {
      const shards: Uint32Array[] = [];
      for (let s = 0; s < shardCount; s++) shards.push(await readMapRecords(ctx.files, ctx.workDir, partition, s));
      await writePartition(ctx.outputDir, partition, sortUniqueRecords(concatRecords(shards)));
    },

    async finish(shardCount: number): Promise<void> {
      let documents = 0;
      for (let s = 0; s < shardCount; s++) documents += (await readShardIds(ctx.outputDir, s, ctx.files)).length;
      let records = 0;
      for (let p = 0; p < o.partitions; p++) for (let s = 0; s < shardCount; s++) records += (await readMapRecords(ctx.files, ctx.workDir, p, s)).length / 4;
      await writeManifest(ctx.outputDir, { n: o.n, partitions: o.partitions, shards: shardCount, documents, records, normalisation: 'lowercase-letter-digit-words' });
    },

    async applier() {
      return { kind: 'filter', name: 'decontam-index', process: (docs) => docs.map(() => KEEP) };
    },
  };
}

export const decontamIndexStage = defineStage<DecontamIndexOptions>({
  name: 'decontam-index',
  kind: 'global',
  description: 'Write the contamination ledger: the n-gram hashes of every document, partitioned, for `decontam check` against benchmarks released later',
  options: decontamIndexOptions,
  create: (o, ctx) => createDecontamIndex(o, ctx),
});

/** This module's stages (for a pipeline's `plugins:` until the stage is registered with the built-in ones). */
export const stages = [decontamIndexStage];
