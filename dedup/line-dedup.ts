/**
 * Line-level dedup as Llama 3 did after ccNet (Llama 3 §3.1.1: "we removed lines that appeared
 * more than 6 times in each bucket of 30M documents"). Documents are cut, in input order, into
 * buckets of `bucket_size`; a normalised line that occurs in more than `max_occurrences`
 * documents of a bucket is removed from all of them. A document that loses all its lines is
 * dropped (rule `empty`). Removed lines are recorded in `meta.line_dedup_removed`.
 * Source code is left alone (by the filters' detector, `text/code-detection.ts`): its short
 * repeated lines (`} else {`, `#endif`, `return 0;`) are syntax, not boilerplate, so a code
 * document's lines are neither counted nor removed; it gets `meta.line_dedup = { skipped: 'code' }`
 * and is counted in `skipped_code_docs` of the stage's statistics. It still takes its place in
 * its bucket (buckets are documents in input order).
 *
 * - map (per shard): one record per distinct normalised line of each document, key = 64-bit line
 *   hash, rankLo = the line's bytes; plus the shard's document count;
 * - reduce (per partition of line hashes): counts each (line, bucket) and writes the duplicated
 *   line hashes in a region file, one region per bucket (partition 0 also writes the shards'
 *   document offsets);
 * - apply (per shard): reads the regions of the buckets its documents fall in (one or two) from
 *   each partition's file, and removes lines.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { Doc } from '../pipeline/doc.ts';
import { KEEP, defineStage, drop, type DocStage, type GlobalStage, type ShardRef, type Verdict } from '../pipeline/stage.ts';
import { stableJson, writeFileAtomic } from '../pipeline/io/atomic.ts';
import { RefineryError } from '../pipeline/errors.ts';
import { hashString32 } from '../pipeline/hash.ts';
import { normalizationSchema, normalizeText, type Normalization } from './normalize-text.ts';
import { PartitionedRecords, readSortedRecords, sortRecords, writeRecordFile } from './records.ts';
import { readWordRegions, writeRegionFile } from './region-file.ts';
import { workFiles } from './work-files.ts';
import { isCode } from '../text/code-detection.ts';
import { skipCode } from '../filters/skip-code.ts';
import { writeStageStats } from './cluster-stats.ts';
import { needAll, readRunFile, readRunText, type RunFiles } from '../pipeline/run-folder/files.ts';

export const lineDedupOptions = z.object({
  max_occurrences: z.number().int().min(1).default(6).describe('A line is removed when more documents than this in its bucket contain it (Llama 3: 6).'),
  bucket_size: z.number().int().min(1).default(30_000_000).describe('Documents per bucket, in input order (Llama 3: 30M).'),
  min_line_chars: z.number().int().min(0).default(0).describe('Lines shorter than this (normalised characters) are never counted nor removed.'),
  normalization: normalizationSchema.default(normalizationSchema.parse({})).describe('ccNet normalises lines before hashing (lower case, digits, punctuation, accents).'),
  partitions: z.number().int().min(1).max(65536).default(16).describe('Reduce tasks (partitions of the line hashes).'),
}).strict();
export type LineDedupOptions = z.infer<typeof lineDedupOptions>;

/** A line key (53 bits) as a record key: 32 high bits, 21 low bits. */
const LINE_KEY_LO = 0x20_0000;
const keyHiOf = (key: number): number => Math.floor(key / LINE_KEY_LO);
const keyLoOf = (key: number): number => key % LINE_KEY_LO;
const lineKey = (keyHi: number, keyLo: number): number => keyHi * LINE_KEY_LO + keyLo;

/** The 53-bit key of each line, or -1 for lines that are never removed (blank or short). */
export function lineKeys(text: string, norm: Normalization, minChars: number): { lines: string[]; keys: number[] } {
  const lines = text.split('\n');
  const keys = lines.map((line) => {
    const n = normalizeText(line, norm);
    if (n.length === 0 || n.length < minChars) return -1;
    return lineKey(hashString32(n, 0x6c696e65), hashString32(n, 0x1d8e4e27) >>> 11);
  });
  return { lines, keys };
}

const countsPath = workFiles.docCount;
const duplicatesPath = workFiles.duplicateLines;
const reduceStatsPath = workFiles.duplicateLineStats;

/** Prefix sums of the shards' document counts: the global ordinal of (shard, 0). */
async function shardOffsets(files: RunFiles, workDir: string, shardCount: number): Promise<number[]> {
  const offsets = [0];
  await needAll(files, Array.from({ length: shardCount }, (_, s) => countsPath(workDir, s)));
  for (let s = 0; s < shardCount; s++) {
    const { docs } = JSON.parse(await readRunText(files, countsPath(workDir, s))) as { docs: number };
    offsets.push(offsets[s]! + docs);
  }
  return offsets;
}

/** The shards' document offsets (float64, shardCount + 1), written once by reduce partition 0 for the appliers. */
const offsetsPath = (workDir: string) => join(workDir, 'duplicates', 'offsets.f64');

const bucketCount = (o: LineDedupOptions, docs: number) => Math.max(1, Math.ceil(docs / o.bucket_size));

async function mapShard(o: LineDedupOptions, workDir: string, shard: ShardRef, docs: AsyncIterable<Doc>): Promise<void> {
  const parts = new PartitionedRecords(o.partitions);
  let pos = 0;
  let code = 0;
  for await (const doc of docs) {
    if (isCode(doc)) {
      code++;
      pos++;
      continue;
    }
    const { lines, keys } = lineKeys(doc.text, o.normalization, o.min_line_chars);
    const seen = new Set<number>();
    keys.forEach((key, i) => {
      if (key < 0 || seen.has(key)) return;
      seen.add(key);
      parts.push(keyHiOf(key), keyLoOf(key), 0, Buffer.byteLength(lines[i]!) + 1, shard.index, pos);
    });
    pos++;
  }
  for (let p = 0; p < o.partitions; p++) await writeRecordFile(workFiles.mapRecords(workDir, p, shard.index), sortRecords(parts.parts[p]!.view()));
  await writeFileAtomic(countsPath(workDir, shard.index), stableJson({ docs: pos, skipped_code_docs: code }));
}

async function reducePartition(o: LineDedupOptions, files: RunFiles, workDir: string, partition: number, shardCount: number): Promise<void> {
  const offsets = await shardOffsets(files, workDir, shardCount);
  const recs = await readSortedRecords(files, Array.from({ length: shardCount }, (_, s) => workFiles.mapRecords(workDir, partition, s)));
  const regions: number[][] = Array.from({ length: bucketCount(o, offsets[shardCount]!) }, () => []);
  let duplicatedLines = 0;
  let removedOccurrences = 0;
  let removedBytes = 0;
  for (const [start, end] of recs.keyGroups()) {
    if (end - start <= o.max_occurrences) continue;
    const perBucket = new Map<number, { count: number; bytes: number }>();
    for (let i = start; i < end; i++) {
      const bucket = Math.floor((offsets[recs.shard(i)]! + recs.pos(i)) / o.bucket_size);
      const c = perBucket.get(bucket) ?? { count: 0, bytes: 0 };
      c.count++;
      c.bytes += recs.rankLo(i);
      perBucket.set(bucket, c);
    }
    for (const bucket of [...perBucket.keys()].sort((a, b) => a - b)) {
      const c = perBucket.get(bucket)!;
      if (c.count <= o.max_occurrences) continue;
      regions[bucket]!.push(recs.keyHi(start), recs.keyLo(start));
      duplicatedLines++;
      removedOccurrences += c.count;
      removedBytes += c.bytes;
    }
  }
  await writeRegionFile(duplicatesPath(workDir, partition), regions.map((r) => new Uint8Array(new Uint32Array(r).buffer)));
  if (partition === 0) await writeFileAtomic(offsetsPath(workDir), new Uint8Array(new Float64Array(offsets).buffer));
  await writeFileAtomic(
    reduceStatsPath(workDir, partition),
    stableJson({ duplicated_lines: duplicatedLines, removed_line_occurrences: removedOccurrences, removed_bytes: removedBytes }),
  );
}

async function writeLineDedupStats(o: LineDedupOptions, files: RunFiles, workDir: string, outputDir: string, shardCount: number): Promise<void> {
  const totals: Record<string, number> = {};
  for (let p = 0; p < o.partitions; p++) {
    const rs = JSON.parse(await readRunText(files, reduceStatsPath(workDir, p))) as Record<string, number>;
    for (const [k, v] of Object.entries(rs)) totals[k] = (totals[k] ?? 0) + v;
  }
  const offsets = await shardOffsets(files, workDir, shardCount);
  let skippedCode = 0;
  for (let s = 0; s < shardCount; s++) {
    skippedCode += (JSON.parse(await readRunText(files, countsPath(workDir, s))) as { skipped_code_docs: number }).skipped_code_docs;
  }
  await writeStageStats(outputDir, 'line-dedup', {
    settings: { max_occurrences: o.max_occurrences, bucket_size: o.bucket_size, min_line_chars: o.min_line_chars, normalization: o.normalization },
    docs_in: offsets[shardCount],
    skipped_code_docs: skippedCode,
    buckets: Math.ceil(offsets[shardCount]! / o.bucket_size),
    ...totals,
  });
}

async function lineRemover(o: LineDedupOptions, files: RunFiles, workDir: string, shard: ShardRef): Promise<DocStage> {
  const bytes = await readRunFile(files, offsetsPath(workDir));
  const offsets = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (offsets.length !== shard.count + 1) throw new RefineryError(`line-dedup: ${offsetsPath(workDir)} has offsets of ${offsets.length - 1} shards, the run has ${shard.count}`);
  const first = offsets[shard.index]!;
  const bucketOf = (pos: number): number => Math.floor((first + pos) / o.bucket_size);
  const firstBucket = bucketOf(0);
  const lastBucket = bucketOf(offsets[shard.index + 1]! - first - 1);
  const regions = bucketCount(o, offsets[shard.count]!);
  const paths = Array.from({ length: o.partitions }, (_, p) => duplicatesPath(workDir, p));
  const duplicates = new Map<number, Set<number>>();
  for (let bucket = firstBucket; bucket <= lastBucket && bucket < regions; bucket++) {
    const t = await readWordRegions(files, paths, regions, bucket);
    const set = new Set<number>();
    for (let i = 0; i < t.length; i += 2) set.add(lineKey(t[i]!, t[i + 1]!));
    duplicates.set(bucket, set);
  }
  let pos = 0;
  return {
    kind: 'mapper',
    name: 'line-dedup',
    process(docs: Doc[]): Verdict[] {
      return docs.map((doc) => {
        const set = duplicates.get(bucketOf(pos++));
        if (isCode(doc)) return skipCode(doc, 'line_dedup');
        if (!set) return KEEP;
        const { lines, keys } = lineKeys(doc.text, o.normalization, o.min_line_chars);
        const kept: string[] = [];
        const removed: string[] = [];
        lines.forEach((line, i) => (keys[i]! >= 0 && set.has(keys[i]!) ? removed : kept).push(line));
        if (removed.length === 0) return KEEP;
        doc.meta.line_dedup_removed = removed;
        doc.text = kept.join('\n').trim();
        return doc.text.length === 0 ? drop('empty', `all ${removed.length} lines were duplicated`) : KEEP;
      });
    },
  };
}

function lineDedupGlobalStage(o: LineDedupOptions, files: RunFiles, workDir: string, outputDir: string): GlobalStage {
  return {
    kind: 'global',
    name: 'line-dedup',
    partitions: o.partitions,
    map: (shard, docs) => mapShard(o, workDir, shard, docs),
    reduce: (partition, shardCount) => reducePartition(o, files, workDir, partition, shardCount),
    finish: (shardCount) => writeLineDedupStats(o, files, workDir, outputDir, shardCount),
    applier: (shard) => lineRemover(o, files, workDir, shard),
  };
}

export const lineDedupStage = defineStage<LineDedupOptions>({
  name: 'line-dedup',
  kind: 'global',
  description: 'Removes lines found in more than 6 documents of a bucket of 30M documents (Llama 3, after ccNet)',
  options: lineDedupOptions,
  create: (o, ctx) => lineDedupGlobalStage(o, ctx.files, ctx.workDir, ctx.outputDir),
});

/** This module's stages, for the registry. */
export const stages = [lineDedupStage];
