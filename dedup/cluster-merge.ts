/**
 * The merge step of document-level dedup: joins the partitions' clustering forests into global
 * clusters and writes, per shard, what its applier must do. It runs as partitioned phases (the
 * stage's `steps`), so no task holds more than its partition's share of the duplicated documents:
 *
 * - merge partition q owns the documents of a contiguous range of shards (`shardsOf`), so that
 *   partitions are ordered by document ref;
 * - `merge` (repeats): min-label propagation with pointer jumping. A node's label is the key
 *   (rank, shard, pos) of the lowest member of its cluster it has heard of; the rounds stop when
 *   no message is sent, and then every node holds its cluster's lowest key, which names the kept
 *   document (lowest rank, then earliest document, as one merge over every edge would choose);
 * - `resolve requests`: counts kept documents per partition; each duplicate asks the partition of
 *   its kept document for the kept document's id and cluster number;
 * - `resolve answers`: numbers the clusters by their kept document's ref (a prefix sum over the
 *   partitions' counts) and answers;
 * - `resolve verdicts`: writes each shard's verdict file; `finish` adds up the statistics.
 * docs/dedup.md gives the round bound and the memory per task.
 */
import { rm } from 'node:fs/promises';
import { stableJson, writeFileAtomic } from '../pipeline/io/atomic.ts';
import { notePeakMemory } from '../pipeline/engine/task-memory.ts';
import type { GlobalStep } from '../pipeline/stage.ts';
import { workFiles } from './work-files.ts';
import { readDocIndex } from './doc-index.ts';
import { histogram, writeStageStats } from './cluster-stats.ts';
import { readRegion, readWordRegions, WordBuffer, writeRegionFile } from './region-file.ts';
import { readRunFile, readRunText, type RunFiles } from '../pipeline/run-folder/files.ts';

/** One line of a shard's verdict file. */
export interface VerdictLine {
  pos: number;
  id: string;
  cluster: string;
  /** Id of the kept document of the cluster; null for the kept document itself. */
  duplicate_of: string | null;
}

export interface MergeInput {
  name: string;
  workDir: string;
  outputDir: string;
  files: RunFiles;
  partitions: number;
  settings: Record<string, unknown>;
}

/** The merge partition that owns a shard's documents. */
export function partitionOfShard(shard: number, shardCount: number, partitions: number): number {
  return Math.floor((shard * partitions) / shardCount);
}

/** The shards `[first, end)` whose documents merge partition `q` owns. */
export function shardsOf(q: number, shardCount: number, partitions: number): [number, number] {
  const first = (k: number) => Math.floor((k * shardCount + partitions - 1) / partitions);
  return [first(q), first(q + 1)];
}

/**
 * Directed edges as the reduce writes them for the merge: `[vShard, vPos, vRankHi, vRankLo, uShard,
 * uPos]`, each undirected edge twice, in the region of the merge partition that owns v.
 */
export const DIRECTED_WORDS = 6;

/** Writes a reduce partition's forest edges (`[aShard, aPos, aRankHi, aRankLo]` then the same of b, per edge). */
export async function writeEdgeFile(path: string, edges: ArrayLike<number>, shardCount: number, partitions: number): Promise<void> {
  const out = Array.from({ length: partitions }, () => new WordBuffer());
  for (let i = 0; i < edges.length; i += 8) {
    const [as, ap, arh, arl, bs, bp, brh, brl] = [edges[i]!, edges[i + 1]!, edges[i + 2]!, edges[i + 3]!, edges[i + 4]!, edges[i + 5]!, edges[i + 6]!, edges[i + 7]!];
    out[partitionOfShard(as, shardCount, partitions)]!.push6(as, ap, arh, arl, bs, bp);
    out[partitionOfShard(bs, shardCount, partitions)]!.push6(bs, bp, brh, brl, as, ap);
  }
  await writeRegionFile(path, out.map((b) => b.bytes()));
}

/** A partition's nodes (sorted by ref) with their ranks, and their neighbours (CSR). */
interface Graph {
  n: number;
  /** `[shard, pos]` per node. */
  ref: Uint32Array;
  /** `[rankHi, rankLo]` per node. */
  rank: Uint32Array;
  /** Neighbours of node i: `adj[2k], adj[2k+1]` (shard, pos) for k in `start[i]..start[i+1]`. */
  start: Uint32Array;
  adj: Uint32Array;
}

function encodeGraph(g: Graph): Uint8Array {
  const m = g.adj.length / 2;
  const words = new Uint32Array(2 + 4 * g.n + g.n + 1 + 2 * m);
  words[0] = g.n;
  words[1] = m;
  words.set(g.ref, 2);
  words.set(g.rank, 2 + 2 * g.n);
  words.set(g.start, 2 + 4 * g.n);
  words.set(g.adj, 3 + 5 * g.n);
  return new Uint8Array(words.buffer);
}

async function readWords(files: RunFiles, path: string): Promise<Uint32Array> {
  const buf = await readRunFile(files, path);
  const words = new Uint32Array(buf.byteLength / 4);
  new Uint8Array(words.buffer).set(buf);
  return words;
}

async function readGraph(files: RunFiles, path: string): Promise<Graph> {
  const w = await readWords(files, path);
  const n = w[0]!;
  const m = w[1]!;
  return { n, ref: w.subarray(2, 2 + 2 * n), rank: w.subarray(2 + 2 * n, 2 + 4 * n), start: w.subarray(2 + 4 * n, 3 + 5 * n), adj: w.subarray(3 + 5 * n, 3 + 5 * n + 2 * m) };
}

/** Builds the graph of a partition from its directed edges (any order, duplicates allowed). */
function buildGraph(e: Uint32Array): Graph {
  const count = e.length / DIRECTED_WORDS;
  const order = new Uint32Array(count);
  for (let i = 0; i < count; i++) order[i] = i;
  const cmp = [0, 1, 4, 5];
  order.sort((a, b) => {
    for (const k of cmp) {
      const d = e[a * DIRECTED_WORDS + k]! - e[b * DIRECTED_WORDS + k]!;
      if (d !== 0) return d;
    }
    return 0;
  });
  const nodes = new WordBuffer();
  const adj = new WordBuffer();
  const start: number[] = [];
  let prev = -1;
  for (let k = 0; k < count; k++) {
    const i = order[k]! * DIRECTED_WORDS;
    const sameNode = prev >= 0 && e[prev] === e[i] && e[prev + 1] === e[i + 1];
    if (sameNode && e[prev + 4] === e[i + 4] && e[prev + 5] === e[i + 5]) continue;
    if (!sameNode) {
      start.push(adj.length / 2);
      nodes.push4(e[i]!, e[i + 1]!, e[i + 2]!, e[i + 3]!);
    }
    adj.push2(e[i + 4]!, e[i + 5]!);
    prev = i;
  }
  start.push(adj.length / 2);
  const both = nodes.words.subarray(0, nodes.length);
  const n = both.length / 4;
  const refs = new Uint32Array(2 * n);
  const ranks = new Uint32Array(2 * n);
  for (let i = 0; i < n; i++) {
    refs[2 * i] = both[4 * i]!;
    refs[2 * i + 1] = both[4 * i + 1]!;
    ranks[2 * i] = both[4 * i + 2]!;
    ranks[2 * i + 1] = both[4 * i + 3]!;
  }
  return { n, ref: refs, rank: ranks, start: Uint32Array.from(start), adj: adj.words.slice(0, adj.length) };
}

/** Index of node (shard, pos) in a sorted ref array, or -1. */
function find(ref: Uint32Array, shard: number, pos: number): number {
  let lo = 0;
  let hi = ref.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const s = ref[2 * mid]!;
    const p = ref[2 * mid + 1]!;
    if (s < shard || (s === shard && p < pos)) lo = mid + 1;
    else if (s > shard || p > pos) hi = mid - 1;
    else return mid;
  }
  return -1;
}

function mustFind(ref: Uint32Array, shard: number, pos: number, where: string): number {
  const i = find(ref, shard, pos);
  if (i < 0) throw new Error(`${where}: document (shard ${shard}, position ${pos}) is not a node of its merge partition; the merge's work files are inconsistent`);
  return i;
}

/** Whether key a (4 words at a[i..]) is lower than key b (4 words at b[j..]). */
function lower(a: ArrayLike<number>, i: number, b: ArrayLike<number>, j: number): boolean {
  for (let k = 0; k < 4; k++) if (a[i + k] !== b[j + k]) return a[i + k]! < b[j + k]!;
  return false;
}

/** Labels: 4 words per node, `[rankHi, rankLo, shard, pos]` of the lowest key heard of. */
function ownLabels(g: Graph): Uint32Array {
  const labels = new Uint32Array(4 * g.n);
  for (let i = 0; i < g.n; i++) labels.set([g.rank[2 * i]!, g.rank[2 * i + 1]!, g.ref[2 * i]!, g.ref[2 * i + 1]!], 4 * i);
  return labels;
}

const isKept = (g: Graph, labels: Uint32Array, i: number): boolean => labels[4 * i + 2] === g.ref[2 * i] && labels[4 * i + 3] === g.ref[2 * i + 1];

/**
 * One round of partition q. A node's label is the key of another node of its cluster, its parent
 * (itself at first), so labels form trees. Messages: candidates `[shard, pos, label×4]` (a label
 * the node takes if lower) and requests `[wShard, wPos, vShard, vPos]` (v asks its parent w for
 * w's label). Each round:
 * - a node whose label dropped sends the new label to its neighbours (propagation) and to its
 *   previous parent (hooking: the whole tree under that parent follows);
 * - every node that is not its own parent asks its parent for the parent's label (shortcutting:
 *   pointer jumping); a parent answers only if its label is lower than its own key.
 * Returns the labels that dropped plus the answers sent: when that is 0 in every partition,
 * nothing in flight can lower a label, every edge joins equal labels, and each node holds its
 * cluster's lowest key.
 */
export async function mergeRound(m: MergeInput, q: number, round: number, shardCount: number): Promise<number> {
  const P = m.partitions;
  let g: Graph;
  let labels: Uint32Array;
  let changed: Uint8Array;
  let before: Uint32Array;
  let work = 0;
  const cands = Array.from({ length: P }, () => new WordBuffer());
  const reqs = Array.from({ length: P }, () => new WordBuffer());
  const part = (shard: number) => partitionOfShard(shard, shardCount, P);
  if (round === 0) {
    const edges = await readWordRegions(m.files, Array.from({ length: P }, (_, p) => workFiles.edges(m.workDir, p)), P, q);
    g = buildGraph(edges);
    notePeakMemory();
    await writeFileAtomic(workFiles.mergeGraph(m.workDir, q), encodeGraph(g));
    labels = ownLabels(g);
    before = labels;
    changed = new Uint8Array(g.n).fill(1);
  } else {
    g = await readGraph(m.files, workFiles.mergeGraph(m.workDir, q));
    labels = await readWords(m.files, workFiles.mergeLabels(m.workDir, round - 1, q));
    changed = new Uint8Array(g.n);
    before = labels.slice();
    const sent = Array.from({ length: P }, (_, p) => workFiles.mergeMessages(m.workDir, round - 1, p));
    const incoming = await readWordRegions(m.files, sent, 2 * P, 2 * q);
    for (let k = 0; k < incoming.length; k += 6) {
      const i = mustFind(g.ref, incoming[k]!, incoming[k + 1]!, `${m.name} merge round ${round}`);
      if (lower(incoming, k + 2, labels, 4 * i)) {
        labels.set(incoming.subarray(k + 2, k + 6), 4 * i);
        if (!changed[i]) work++;
        changed[i] = 1;
      }
    }
    const asked = await readWordRegions(m.files, sent, 2 * P, 2 * q + 1);
    notePeakMemory();
    for (let k = 0; k < asked.length; k += 4) {
      const w = mustFind(g.ref, asked[k]!, asked[k + 1]!, `${m.name} merge round ${round}`);
      if (isKept(g, labels, w)) continue;
      work++;
      const l = 4 * w;
      cands[part(asked[k + 2]!)]!.push6(asked[k + 2]!, asked[k + 3]!, labels[l]!, labels[l + 1]!, labels[l + 2]!, labels[l + 3]!);
    }
  }
  for (let i = 0; i < g.n; i++) {
    const l = 4 * i;
    if (!isKept(g, labels, i)) reqs[part(labels[l + 2]!)]!.push4(labels[l + 2]!, labels[l + 3]!, g.ref[2 * i]!, g.ref[2 * i + 1]!);
    if (!changed[i]) continue;
    for (let k = g.start[i]!; k < g.start[i + 1]!; k++) {
      const us = g.adj[2 * k]!;
      cands[part(us)]!.push6(us, g.adj[2 * k + 1]!, labels[l]!, labels[l + 1]!, labels[l + 2]!, labels[l + 3]!);
    }
    const ps = before[l + 2]!;
    const pp = before[l + 3]!;
    if (round > 0 && (ps !== g.ref[2 * i] || pp !== g.ref[2 * i + 1])) cands[part(ps)]!.push6(ps, pp, labels[l]!, labels[l + 1]!, labels[l + 2]!, labels[l + 3]!);
  }
  notePeakMemory();
  await writeFileAtomic(workFiles.mergeLabels(m.workDir, round, q), new Uint8Array(labels.buffer, labels.byteOffset, labels.byteLength));
  await writeRegionFile(workFiles.mergeMessages(m.workDir, round, q), cands.flatMap((c, p) => [c.bytes(), reqs[p]!.bytes()]));
  // Round r-2's files of this partition were read by round r-1 only, which is done.
  if (round >= 2) {
    await rm(workFiles.mergeLabels(m.workDir, round - 2, q), { force: true });
    await rm(workFiles.mergeMessages(m.workDir, round - 2, q), { force: true });
  }
  return round === 0 ? cands.reduce((a, c) => a + c.length / 6, 0) : work;
}

/** The graph and final labels of partition q (those of the last round, which sent nothing). */
async function finalState(m: MergeInput, q: number): Promise<{ g: Graph; labels: Uint32Array }> {
  const rounds = (await m.files.list(workFiles.mergeRounds(m.workDir)))
    .filter((d) => /^r\d+$/.test(d))
    .map((d) => Number(d.slice(1)))
    .sort((a, b) => b - a);
  for (const r of rounds) {
    if (!(await m.files.need(workFiles.mergeLabels(m.workDir, r, q)))) continue;
    const labels = await readWords(m.files, workFiles.mergeLabels(m.workDir, r, q));
    return { g: await readGraph(m.files, workFiles.mergeGraph(m.workDir, q)), labels };
  }
  throw new Error(`${m.name}: no merge round left labels for partition ${q} in ${m.workDir}`);
}

/** Ids and byte counts of the documents of merge partition q's shards, in ref order, for the nodes only. */
async function* nodeDocs(m: MergeInput, g: Graph, q: number, shardCount: number): AsyncGenerator<{ shard: number; pos: number; node: number; id: string; bytes: number }> {
  const [first, end] = shardsOf(q, shardCount, m.partitions);
  let next = 0;
  for (let s = first; s < end; s++) {
    let pos = 0;
    for await (const [id, bytes] of readDocIndex(m.files, workFiles.docIndex(m.workDir, s))) {
      const node = next < g.n && g.ref[2 * next] === s && g.ref[2 * next + 1] === pos ? next++ : -1;
      yield { shard: s, pos, node, id, bytes };
      pos++;
    }
  }
}

interface Counts {
  nodes: number;
  kept: number;
  docs_in: number;
  removed_bytes: number;
}

async function resolveRequests(m: MergeInput, q: number, shardCount: number): Promise<void> {
  const { g, labels } = await finalState(m, q);
  const requests = Array.from({ length: m.partitions }, () => new WordBuffer());
  const counts: Counts = { nodes: g.n, kept: 0, docs_in: 0, removed_bytes: 0 };
  for (let i = 0; i < g.n; i++) {
    if (isKept(g, labels, i)) counts.kept++;
    else requests[partitionOfShard(labels[4 * i + 2]!, shardCount, m.partitions)]!.push4(labels[4 * i + 2]!, labels[4 * i + 3]!, g.ref[2 * i]!, g.ref[2 * i + 1]!);
  }
  for await (const d of nodeDocs(m, g, q, shardCount)) {
    counts.docs_in++;
    if (d.node >= 0 && !isKept(g, labels, d.node)) counts.removed_bytes += d.bytes;
  }
  notePeakMemory();
  await writeRegionFile(workFiles.mergeRequests(m.workDir, q), requests.map((r) => r.bytes()));
  await writeFileAtomic(workFiles.mergeCounts(m.workDir, q), stableJson(counts));
}

/** Cluster number of the first kept document of partition q: the kept documents of lower partitions. */
async function clusterBase(m: MergeInput, q: number): Promise<number> {
  let base = 0;
  for (let p = 0; p < q; p++) base += (JSON.parse(await readRunText(m.files, workFiles.mergeCounts(m.workDir, p))) as Counts).kept;
  return base;
}

/** Cluster numbers of the kept nodes of partition q (-1 for the others). */
function clusterNumbers(g: Graph, labels: Uint32Array, base: number): Float64Array {
  const out = new Float64Array(g.n).fill(-1);
  for (let i = 0; i < g.n; i++) if (isKept(g, labels, i)) out[i] = base++;
  return out;
}

async function resolveAnswers(m: MergeInput, q: number, shardCount: number): Promise<void> {
  const { g, labels } = await finalState(m, q);
  const cluster = clusterNumbers(g, labels, await clusterBase(m, q));
  const keptId = new Map<number, string>();
  for await (const d of nodeDocs(m, g, q, shardCount)) if (d.node >= 0 && cluster[d.node]! >= 0) keptId.set(d.node, d.id);
  const asked = await readWordRegions(m.files, Array.from({ length: m.partitions }, (_, p) => workFiles.mergeRequests(m.workDir, p)), m.partitions, q);
  const size = new Uint32Array(g.n);
  const answers: string[][] = Array.from({ length: m.partitions }, () => []);
  for (let k = 0; k < asked.length; k += 4) {
    const w = mustFind(g.ref, asked[k]!, asked[k + 1]!, `${m.name} resolve`);
    size[w]!++;
    answers[partitionOfShard(asked[k + 2]!, shardCount, m.partitions)]!.push(JSON.stringify([asked[k + 2], asked[k + 3], cluster[w], keptId.get(w)]));
  }
  notePeakMemory();
  const sizes: number[] = [];
  for (let i = 0; i < g.n; i++) if (cluster[i]! >= 0) sizes.push(size[i]! + 1);
  const enc = new TextEncoder();
  await writeRegionFile(workFiles.mergeAnswers(m.workDir, q), answers.map((a) => enc.encode(a.length ? a.join('\n') + '\n' : '')));
  await writeFileAtomic(workFiles.mergeSizes(m.workDir, q), stableJson({ cluster_size_histogram: histogram(sizes) }));
}

async function resolveVerdicts(m: MergeInput, q: number, shardCount: number): Promise<void> {
  const { g, labels } = await finalState(m, q);
  const cluster = clusterNumbers(g, labels, await clusterBase(m, q));
  const keptOf = new Map<number, [number, string]>();
  const dec = new TextDecoder();
  for (let p = 0; p < m.partitions; p++) {
    for (const line of dec.decode(await readRegion(m.files, workFiles.mergeAnswers(m.workDir, p), m.partitions, q)).split('\n')) {
      if (!line) continue;
      const [s, pos, c, id] = JSON.parse(line) as [number, number, number, string];
      keptOf.set(mustFind(g.ref, s, pos, `${m.name} resolve`), [c, id]);
    }
  }
  notePeakMemory();
  const label = (c: number): string => `${m.name}/${c}`;
  const [first, end] = shardsOf(q, shardCount, m.partitions);
  const lines: string[][] = Array.from({ length: end - first }, () => []);
  for await (const d of nodeDocs(m, g, q, shardCount)) {
    if (d.node < 0) continue;
    const kept = cluster[d.node]! >= 0;
    const [c, keptId] = kept ? [cluster[d.node]!, null] : keptOf.get(d.node)!;
    const v: VerdictLine = { pos: d.pos, id: d.id, cluster: label(c), duplicate_of: keptId };
    lines[d.shard - first]!.push(JSON.stringify(v));
  }
  for (let s = first; s < end; s++) {
    const l = lines[s - first]!;
    await writeFileAtomic(workFiles.verdicts(m.workDir, s), l.length ? l.join('\n') + '\n' : '');
  }
}

/** The merge as the stage's steps: rounds, then three resolving phases, one task per partition each. */
export function mergeSteps(m: MergeInput): GlobalStep[] {
  const tasks = m.partitions;
  return [
    { name: 'merge', tasks, repeat: true, run: (q, round, shardCount) => mergeRound(m, q, round, shardCount) },
    { name: 'resolve requests', tasks, run: (q, _r, shardCount) => resolveRequests(m, q, shardCount) },
    { name: 'resolve answers', tasks, run: (q, _r, shardCount) => resolveAnswers(m, q, shardCount) },
    { name: 'resolve verdicts', tasks, run: (q, _r, shardCount) => resolveVerdicts(m, q, shardCount) },
  ];
}

/** The stage statistics from the partitions' small files (the `finish` task). */
export async function writeMergeStats(m: MergeInput): Promise<void> {
  const totals = { docs_in: 0, clusters: 0, docs_in_clusters: 0, removed_bytes: 0 };
  const sizes: Record<string, number> = {};
  const reduceTotals: Record<string, number> = {};
  for (let p = 0; p < m.partitions; p++) {
    const c = JSON.parse(await readRunText(m.files, workFiles.mergeCounts(m.workDir, p))) as Counts;
    totals.docs_in += c.docs_in;
    totals.clusters += c.kept;
    totals.docs_in_clusters += c.nodes;
    totals.removed_bytes += c.removed_bytes;
    const h = (JSON.parse(await readRunText(m.files, workFiles.mergeSizes(m.workDir, p))) as { cluster_size_histogram: Record<string, number> }).cluster_size_histogram;
    for (const [k, v] of Object.entries(h)) sizes[k] = (sizes[k] ?? 0) + v;
    const rs = JSON.parse(await readRunText(m.files, workFiles.reduceStats(m.workDir, p))) as Record<string, number>;
    for (const [k, v] of Object.entries(rs)) reduceTotals[k] = (reduceTotals[k] ?? 0) + v;
  }
  await writeStageStats(m.outputDir, m.name, {
    settings: m.settings,
    docs_in: totals.docs_in,
    clusters: totals.clusters,
    docs_in_clusters: totals.docs_in_clusters,
    cluster_size_histogram: sizes,
    removed_docs: totals.docs_in_clusters - totals.clusters,
    removed_bytes: totals.removed_bytes,
    ...reduceTotals,
  });
}
