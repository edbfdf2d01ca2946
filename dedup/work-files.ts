/**
 * Where a dedup stage keeps its phase data under its `workDir`. Every file is written atomically
 * by exactly one task, so map, reduce and apply tasks can run in different processes or machines
 * that share the storage. Names are zero-padded so listings sort.
 */
import { join } from 'node:path';

const pad = (n: number): string => String(n).padStart(6, '0');

export const workFiles = {
  /** Map output: the records of one shard that fall in one partition, sorted. */
  mapRecords: (workDir: string, partition: number, shard: number) => join(workDir, 'map', `p${pad(partition)}`, `s${pad(shard)}.bin`),
  /** Map output: `[id, bytes]` per document of the shard, one JSON array a line, in input order. */
  docIndex: (workDir: string, shard: number) => join(workDir, 'docs', `s${pad(shard)}.jsonl`),
  /** Map output of methods that verify candidates: per-shard side data (signatures, embeddings). */
  sideData: (workDir: string, kind: string, shard: number) => join(workDir, kind, `s${pad(shard)}.bin`),
  /** Reduce output: edges of the partition's clustering forest, a region per merge partition (region-file.ts). */
  edges: (workDir: string, partition: number) => join(workDir, 'edges', `p${pad(partition)}.bin`),
  /** Reduce output: numbers of the partition (candidates, verified pairs ...). */
  reduceStats: (workDir: string, partition: number) => join(workDir, 'edges', `p${pad(partition)}.json`),
  /** Merge, round 0: the partition's nodes (documents with a duplicate) and their edges. */
  mergeGraph: (workDir: string, partition: number) => join(workDir, 'merge', 'graph', `q${pad(partition)}.bin`),
  /** Merge, per round (folders `r<round>` under mergeRounds): the partition's labels, and the messages it sent (a region per destination). */
  mergeRounds: (workDir: string) => join(workDir, 'merge'),
  mergeLabels: (workDir: string, round: number, partition: number) => join(workDir, 'merge', `r${pad(round)}`, `labels-q${pad(partition)}.bin`),
  mergeMessages: (workDir: string, round: number, partition: number) => join(workDir, 'merge', `r${pad(round)}`, `messages-q${pad(partition)}.bin`),
  /** Merge, after the rounds: counts, requests for the kept documents' ids, the answers, cluster sizes. */
  mergeCounts: (workDir: string, partition: number) => join(workDir, 'merge', 'resolve', `counts-q${pad(partition)}.json`),
  mergeRequests: (workDir: string, partition: number) => join(workDir, 'merge', 'resolve', `requests-q${pad(partition)}.bin`),
  mergeAnswers: (workDir: string, partition: number) => join(workDir, 'merge', 'resolve', `answers-q${pad(partition)}.bin`),
  mergeSizes: (workDir: string, partition: number) => join(workDir, 'merge', 'resolve', `sizes-q${pad(partition)}.json`),
  /** Merge output: what the applier of one shard does. */
  verdicts: (workDir: string, shard: number) => join(workDir, 'verdicts', `s${pad(shard)}.jsonl`),
  /** Line dedup, map output: the shard's document count. */
  docCount: (workDir: string, shard: number) => join(workDir, 'docs', `s${pad(shard)}.json`),
  /** Line dedup, reduce output: `(bucket, hash hi, hash lo)` of the duplicated lines, and counters. */
  duplicateLines: (workDir: string, partition: number) => join(workDir, 'duplicates', `p${pad(partition)}.bin`),
  duplicateLineStats: (workDir: string, partition: number) => join(workDir, 'duplicates', `p${pad(partition)}.json`),
  /** Line dedup: where the statistics step records that it ran. */
  lineStatsDir: (workDir: string) => join(workDir, 'stats'),
};
