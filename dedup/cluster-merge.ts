/**
 * The merge step of document-level dedup: joins the partitions' clustering forests into global
 * clusters and writes, per shard, what its applier must do. It is the stage's `finish` task (one per
 * stage, after every reduce and before any apply task), and holds only the documents that have a duplicate, in typed
 * arrays: about 40 bytes per such document (sorted ref, rank, union-find parent and size, root,
 * kept member, cluster number), plus the id of each cluster's kept document. Edge files and
 * shard indexes are streamed.
 *
 * Passes: (1) collect the distinct refs of all edges, sorted; (2) union the edges, record ranks;
 * (3) stream the shards' `[id, bytes]` indexes to learn the kept documents' ids, the removed
 * bytes and the number of documents; (4) stream them again to write each shard's verdicts.
 */
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../pipeline/io/atomic.ts';
import { UnionFind } from './union-find.ts';
import { refKey } from './records.ts';
import { workFiles } from './work-files.ts';
import { readDocIndex } from './doc-index.ts';
import { histogram, writeStageStats } from './cluster-stats.ts';

/** One line of a shard's verdict file. */
export interface VerdictLine {
  pos: number;
  id: string;
  cluster: string;
  /** Id of the kept document of the cluster; null for the kept document itself. */
  duplicate_of: string | null;
}

/** An edge is 8 words: a (shard, pos, rankHi, rankLo), b (shard, pos, rankHi, rankLo). */
export const EDGE_WORDS = 8;

export interface MergeInput {
  name: string;
  workDir: string;
  outputDir: string;
  partitions: number;
  shardCount: number;
  settings: Record<string, unknown>;
}

async function readEdges(workDir: string, partition: number): Promise<Uint32Array> {
  const buf = await readFile(workFiles.edges(workDir, partition));
  const words = new Uint32Array(buf.byteLength / 4);
  new Uint8Array(words.buffer).set(buf);
  return words;
}

/** Sorts `a` in place and returns its distinct values (a view of its start). */
function sortedUnique(a: Float64Array): Float64Array {
  a.sort();
  let w = 0;
  for (let i = 0; i < a.length; i++) if (i === 0 || a[i] !== a[i - 1]) a[w++] = a[i];
  return a.subarray(0, w);
}

function indexOf(sorted: Float64Array, key: number): number {
  let lo = 0;
  let hi = sorted.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid] < key) lo = mid + 1;
    else if (sorted[mid] > key) hi = mid - 1;
    else return mid;
  }
  throw new Error(`document ref ${key} missing from the merge's node list`);
}

export async function mergeClusters(m: MergeInput): Promise<void> {
  // 1. Distinct refs, sorted (so also grouped by shard and ordered by position). Refs are
  // appended to a buffer that is sorted and de-duplicated whenever it has doubled, so the cost
  // stays O(edges · log) and the memory about twice the distinct refs.
  let buffer = new Float64Array(1 << 16);
  let unique = 0;
  let length = 0;
  const compact = (): void => {
    unique = length = sortedUnique(buffer.subarray(0, length)).length;
  };
  const reduceTotals: Record<string, number> = {};
  for (let p = 0; p < m.partitions; p++) {
    const e = await readEdges(m.workDir, p);
    for (let i = 0; i < e.length; i += EDGE_WORDS) {
      if (length + 2 > buffer.length) {
        compact();
        if (length + 2 > buffer.length / 2) {
          const bigger = new Float64Array(buffer.length * 2);
          bigger.set(buffer.subarray(0, length));
          buffer = bigger;
        }
      }
      buffer[length++] = refKey(e[i], e[i + 1]);
      buffer[length++] = refKey(e[i + 4], e[i + 5]);
    }
    const rs = JSON.parse(await readFile(workFiles.reduceStats(m.workDir, p), 'utf8')) as Record<string, number>;
    for (const [k, v] of Object.entries(rs)) reduceTotals[k] = (reduceTotals[k] ?? 0) + v;
  }
  compact();
  const nodes = buffer.slice(0, unique);
  const n = nodes.length;

  // 2. Union the edges; remember each node's rank.
  const uf = new UnionFind(Math.max(1, n));
  for (let i = 0; i < n; i++) uf.add();
  const rank = new Float64Array(n);
  for (let p = 0; p < m.partitions; p++) {
    const e = await readEdges(m.workDir, p);
    for (let i = 0; i < e.length; i += EDGE_WORDS) {
      const a = indexOf(nodes, refKey(e[i], e[i + 1]));
      const b = indexOf(nodes, refKey(e[i + 4], e[i + 5]));
      rank[a] = e[i + 2] * 0x1_0000_0000 + e[i + 3];
      rank[b] = e[i + 6] * 0x1_0000_0000 + e[i + 7];
      uf.union(a, b);
    }
  }
  // Kept member of each cluster: lowest (rank, ref); clusters numbered by their kept ref.
  const root = new Int32Array(n);
  const best = new Int32Array(n).fill(-1);
  const size = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const r = (root[i] = uf.find(i));
    size[r]++;
    const b = best[r];
    if (b < 0 || rank[i] < rank[b] || (rank[i] === rank[b] && nodes[i] < nodes[b])) best[r] = i;
  }
  // Nodes are sorted by ref, so numbering kept documents in node order numbers clusters by them.
  const clusterOf = new Int32Array(n).fill(-1);
  const sizes: number[] = [];
  for (let i = 0; i < n; i++) {
    if (best[root[i]] !== i) continue;
    clusterOf[root[i]] = sizes.length;
    sizes.push(size[root[i]]);
  }

  // 3. Ids of kept documents, bytes of removed ones, documents in.
  const keptId = new Map<number, string>();
  let docsIn = 0;
  let removedBytes = 0;
  let next = 0;
  for (let s = 0; s < m.shardCount; s++) {
    let pos = 0;
    for await (const [id, bytes] of readDocIndex(workFiles.docIndex(m.workDir, s))) {
      docsIn++;
      if (next < n && nodes[next] === refKey(s, pos)) {
        if (best[root[next]] === next) keptId.set(next, id);
        else removedBytes += bytes;
        next++;
      }
      pos++;
    }
  }

  // 4. Verdicts per shard.
  next = 0;
  const label = (cluster: number): string => `${m.name}/${cluster}`;
  for (let s = 0; s < m.shardCount; s++) {
    const lines: string[] = [];
    let pos = 0;
    for await (const [id] of readDocIndex(workFiles.docIndex(m.workDir, s))) {
      if (next < n && nodes[next] === refKey(s, pos)) {
        const kept = best[root[next]];
        const v: VerdictLine = { pos, id, cluster: label(clusterOf[root[next]]), duplicate_of: kept === next ? null : keptId.get(kept)! };
        lines.push(JSON.stringify(v));
        next++;
      }
      pos++;
    }
    await writeFileAtomic(workFiles.verdicts(m.workDir, s), lines.length ? lines.join('\n') + '\n' : '');
  }

  await writeStageStats(m.outputDir, m.name, {
    settings: m.settings,
    docs_in: docsIn,
    clusters: sizes.length,
    docs_in_clusters: n,
    cluster_size_histogram: histogram(sizes),
    removed_docs: n - sizes.length,
    removed_bytes: removedBytes,
    ...reduceTotals,
  });
}
