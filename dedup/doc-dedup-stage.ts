/**
 * The phases shared by every document-level dedup method (exact, URL, MinHash, semantic). A
 * method only says which keys a document has (`ShardKeyer`) and, optionally, how to verify two
 * candidates that share a key (`PartitionVerifier`); this file does the storage and clustering:
 *
 * - map (per shard): records `(key, rank, shard, pos)` into one sorted file per partition, and the
 *   shard's `[id, bytes]` index;
 * - reduce (per partition): sorts the partition's records, walks each group of equal keys in rank
 *   order and unions candidates (verified when the method verifies) in a union-find local to the
 *   partition; writes the spanning-forest edges it used (at most one per document per partition);
 * - merge steps (cluster-merge.ts; one task per partition, the first in rounds): connected
 *   components over all partitions' edges, keeping the member with the lowest (rank, shard, pos)
 *   of each cluster; they resolve ids and write one verdict file per shard;
 * - finish (one task): adds up the partitions' statistics;
 * - apply (per shard): drops the documents its verdict file names.
 * No state passes between phases except these files, so each task can run in another process.
 */
import type { Doc } from '../pipeline/doc.ts';
import { KEEP, drop, type DocStage, type GlobalStage, type ShardRef, type Verdict } from '../pipeline/stage.ts';
import { JsonlWriter } from '../pipeline/io/jsonl-writer.ts';
import { writeFileAtomic, stableJson } from '../pipeline/io/atomic.ts';
import { RefineryError } from '../pipeline/errors.ts';
import { KeyedUnionFind } from './union-find.ts';
import { PartitionedRecords, readSortedRecords, refOfKey, sortRecords, writeRecordFile, type DocRef, type Records } from './records.ts';
import { workFiles } from './work-files.ts';
import { mergeSteps, writeEdgeFile, writeMergeStats, type MergeInput, type VerdictLine } from './cluster-merge.ts';
import { readRunText, type RunFiles } from '../pipeline/run-folder/files.ts';

/** Adds a record for the current document; rank defaults to 0 (then the earliest document wins). */
export type EmitKey = (keyHi: number, keyLo: number, rankHi?: number, rankLo?: number) => void;

export interface ShardKeyer {
  add(doc: Doc, pos: number, emit: EmitKey): void | Promise<void>;
  /** Writes any side data the verifier needs (signatures, embeddings). */
  finish(): Promise<void>;
}

export interface PartitionVerifier {
  same(a: DocRef, b: DocRef): boolean | Promise<boolean>;
  close(): Promise<void>;
}

export interface DocDedupMethod {
  name: string;
  /** The verdict rule of a removed duplicate: reject reason `<name>:<rule>`. */
  rule: string;
  partitions: number;
  workDir: string;
  outputDir: string;
  /** The run's files the reduce and the applier read (StageContext.files). */
  files: RunFiles;
  keyer(shard: number): ShardKeyer;
  verifier?(partition: number, shardCount: number): Promise<PartitionVerifier>;
  /** With a verifier: how many earlier members of a bucket a document is compared with. */
  maxComparisons?: number;
  /** Echoed in the statistics (the options that shaped the result). */
  settings: Record<string, unknown>;
}

/** Appends an edge in the layout `writeEdgeFile` takes: each end's shard, pos, rankHi, rankLo. */
function pushEdge(edges: number[], recs: Records, a: number, b: number): void {
  for (const i of [a, b]) edges.push(recs.shard(i), recs.pos(i), recs.rankHi(i), recs.rankLo(i));
}

export function docDedupStage(m: DocDedupMethod): GlobalStage {
  const merge: MergeInput = { name: m.name, workDir: m.workDir, outputDir: m.outputDir, files: m.files, partitions: m.partitions, settings: m.settings };
  return {
    kind: 'global',
    name: m.name,
    partitions: m.partitions,
    steps: mergeSteps(merge),

    async map(shard: ShardRef, docs: AsyncIterable<Doc>): Promise<void> {
      const keyer = m.keyer(shard.index);
      const parts = new PartitionedRecords(m.partitions);
      const index = await JsonlWriter.open(workFiles.docIndex(m.workDir, shard.index));
      try {
        let pos = 0;
        for await (const doc of docs) {
          const p = pos;
          await keyer.add(doc, p, (kh, kl, rh = 0, rl = 0) => parts.push(kh >>> 0, kl >>> 0, rh >>> 0, rl >>> 0, shard.index, p));
          await index.write([doc.id, Buffer.byteLength(doc.text)]);
          pos++;
        }
        await keyer.finish();
      } catch (e) {
        await index.abort();
        throw e;
      }
      for (let p = 0; p < m.partitions; p++) {
        await writeRecordFile(workFiles.mapRecords(m.workDir, p, shard.index), sortRecords(parts.parts[p]!.view()));
      }
      await index.close();
    },

    async reduce(partition: number, shardCount: number): Promise<void> {
      const recs = await readSortedRecords(m.files, Array.from({ length: shardCount }, (_, s) => workFiles.mapRecords(m.workDir, partition, s)));
      const verifier = m.verifier ? await m.verifier(partition, shardCount) : undefined;
      const maxComparisons = m.maxComparisons ?? 8;
      const uf = new KeyedUnionFind();
      const edges: number[] = [];
      let candidates = 0;
      let verified = 0;
      let groups = 0;
      try {
        for (const [start, end] of recs.keyGroups()) {
          if (end - start < 2) continue;
          groups++;
          for (let i = start + 1; i < end; i++) {
            const b = recs.ref(i);
            const firstCompared = verifier ? Math.max(start, i - maxComparisons) : start;
            for (let j = verifier ? i - 1 : start; j >= firstCompared; j--) {
              const a = recs.ref(j);
              if (a === b || uf.connected(a, b)) break;
              candidates++;
              if (verifier && !(await verifier.same(refOfKey(a), refOfKey(b)))) continue;
              verified++;
              uf.union(a, b);
              pushEdge(edges, recs, j, i);
              break;
            }
          }
        }
      } finally {
        await verifier?.close();
      }
      await writeEdgeFile(workFiles.edges(m.workDir, partition), edges, shardCount, m.partitions);
      await writeFileAtomic(
        workFiles.reduceStats(m.workDir, partition),
        stableJson({ records: recs.count, shared_key_groups: groups, candidate_pairs: candidates, merged_pairs: verified }),
      );
    },

    async finish(): Promise<void> {
      await writeMergeStats(merge);
    },

    async applier(shard: ShardRef): Promise<DocStage> {
      const verdicts = new Map<number, VerdictLine>();
      for (const line of (await readRunText(m.files, workFiles.verdicts(m.workDir, shard.index))).split('\n')) {
        if (line.length === 0) continue;
        const v = JSON.parse(line) as VerdictLine;
        verdicts.set(v.pos, v);
      }
      let pos = 0;
      return {
        kind: 'filter',
        name: m.name,
        process(docs: Doc[]): Verdict[] {
          return docs.map((doc) => {
            const v = verdicts.get(pos++);
            if (!v) return KEEP;
            if (v.id !== doc.id) {
              throw new RefineryError(`${m.name}: shard ${shard.index} position ${v.pos} is "${doc.id}" in the apply phase but was "${v.id}" in the map phase; the input changed between phases`);
            }
            doc.meta.dedup_cluster = v.cluster;
            if (v.duplicate_of === null) return KEEP;
            doc.meta.duplicate_of = v.duplicate_of;
            return drop(m.rule, `duplicate of ${v.duplicate_of}`);
          });
        },
      };
    },
  };
}
