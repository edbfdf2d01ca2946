/**
 * Scale benchmark of the partitioned cluster merge (issue 12): for each corpus size, generates the
 * duplicate structure a dedup reduce would leave (records, not text: per-shard `[id, bytes]`
 * indexes and per-partition forest edges), with 30% of documents in clusters whose members are
 * drawn from every shard (so clusters span merge partitions), sizes 2-10 and one chain of 1,000 per
 * million documents; chooses partitions in proportion to the clustered documents (docs/dedup.md:
 * about 100,000 per partition); runs the real merge steps task by task, and prints one JSON line
 * per size:
 *   {"docs","clustered","partitions","merge_tasks","rounds","max_task_peak_bytes","seconds"}
 * `max_task_peak_bytes` is the largest peak of heap plus array buffers of one task (measured as
 * stats.json measures it, after a GC between tasks); `seconds` is the whole merge on one core.
 *
 * Run: npm run bench -- scale --sizes 1e6,4e6,16e6 (default 1e6,4e6). BENCH_QUICK=1: 20,000 docs.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { workFiles } from '../dedup/work-files.ts';
import { mergeSteps, writeEdgeFile, writeMergeStats, type MergeInput } from '../dedup/cluster-merge.ts';
import { measurePeakMemory } from '../pipeline/engine/task-memory.ts';
import { mulberry32 } from '../pipeline/seeded-random.ts';
import { QUICK } from './quick.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';

const SHARD_DOCS = 100_000;
/** Clustered documents per merge partition (docs/dedup.md, "Choosing partitions"). */
const NODES_PER_PARTITION = 100_000;

function sizesFromArgs(): number[] {
  const i = process.argv.indexOf('--sizes');
  if (QUICK) return [20_000];
  if (i < 0) return [1e6, 4e6];
  const sizes = (process.argv[i + 1] ?? '').split(',').map(Number);
  if (!sizes.length || sizes.some((n) => !Number.isInteger(n) || n < 1000)) throw new Error(`--sizes: expected whole numbers of documents ≥ 1000 separated by commas, e.g. 1e6,4e6; got "${process.argv[i + 1]}"`);
  return sizes;
}

interface Figures {
  docs: number;
  clustered: number;
  partitions: number;
  merge_tasks: number;
  rounds: number;
  max_task_peak_bytes: number;
  seconds: number;
}

async function generate(dir: string, docs: number, partitions: number): Promise<{ shards: number; clustered: number }> {
  const rng = mulberry32(docs);
  const shards = Math.max(partitions, Math.ceil(docs / SHARD_DOCS));
  const perShard = Math.ceil(docs / shards);
  await mkdir(join(dir, 'docs'), { recursive: true });
  for (let s = 0; s < shards; s++) {
    const n = Math.min(perShard, docs - s * perShard);
    const lines = new Array<string>(Math.max(0, n));
    for (let p = 0; p < n; p++) lines[p] = `["s${s}-${p}",${1000 + (p % 977)}]`;
    await writeFile(workFiles.docIndex(dir, s), lines.length ? lines.join('\n') + '\n' : '');
  }
  // Documents in clusters: a random 30% of all, in random order, cut into clusters.
  const total = shards * perShard;
  const clusteredTarget = Math.floor(docs * 0.3);
  const chosen = new Uint8Array(total);
  const members: number[] = [];
  while (members.length < clusteredTarget) {
    const d = Math.floor(rng() * docs);
    if (chosen[d]) continue;
    chosen[d] = 1;
    members.push(d);
  }
  const edges: number[][] = Array.from({ length: partitions }, () => []);
  const push = (a: number, b: number, rank: (d: number) => number): void => {
    const e = edges[Math.floor(rng() * partitions)]!;
    for (const d of [a, b]) e.push(Math.floor(d / perShard), d % perShard, 0, rank(d));
  };
  const rank = (d: number) => (d * 2654435761) % 7;
  let at = 0;
  const chains = Math.max(1, Math.floor(docs / 1e6));
  for (let c = 0; c < chains && at + 1000 <= members.length; c++, at += 1000) for (let i = at + 1; i < at + 1000; i++) push(members[i - 1]!, members[i]!, rank);
  while (at + 1 < members.length) {
    const size = Math.min(members.length - at, 2 + Math.floor(rng() * rng() * 9));
    for (let i = 1; i < size; i++) push(members[at + Math.floor(rng() * i)]!, members[at + i]!, rank);
    at += size;
  }
  for (let p = 0; p < partitions; p++) {
    await writeEdgeFile(workFiles.edges(dir, p), edges[p]!, shards, partitions);
    await writeFile(workFiles.reduceStats(dir, p), '{}');
  }
  return { shards, clustered: at };
}

async function benchSize(docs: number): Promise<Figures> {
  const dir = await mkdtemp(join(tmpdir(), 'scale-bench-'));
  try {
    const partitions = Math.max(1, Math.ceil((docs * 0.3) / NODES_PER_PARTITION));
    const { shards, clustered } = await generate(dir, docs, partitions);
    const m: MergeInput = { name: 'scale', workDir: dir, outputDir: join(dir, 'out'), files: folderFiles, partitions, settings: {} };
    const gc = (globalThis as { gc?: () => void }).gc;
    let tasks = 0;
    let rounds = 0;
    let peak = 0;
    const task = async (fn: () => Promise<unknown>): Promise<unknown> => {
      gc?.();
      const { value, peakBytes } = await measurePeakMemory(fn);
      peak = Math.max(peak, peakBytes);
      tasks++;
      return value;
    };
    const t0 = performance.now();
    for (const step of mergeSteps(m)) {
      for (let round = 0; ; round++) {
        let left = 0;
        for (let q = 0; q < step.tasks; q++) left += ((await task(() => step.run(q, round, shards))) as number | undefined) ?? 0;
        if (step.repeat) rounds = round + 1;
        if (!step.repeat || left === 0) break;
      }
    }
    await task(() => writeMergeStats(m));
    return { docs, clustered, partitions, merge_tasks: tasks, rounds, max_task_peak_bytes: peak, seconds: Math.round((performance.now() - t0) / 10) / 100 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

process.stdout.write('### Partitioned cluster merge at scale (one JSON line per corpus size, then the same as a table)\n\n');
const rows: Figures[] = [];
for (const n of sizesFromArgs()) {
  rows.push(await benchSize(n));
  process.stdout.write(JSON.stringify(rows.at(-1)) + '\n');
}
process.stdout.write('\n| documents | clustered | partitions | merge tasks | rounds | max task peak MB | seconds (one core) |\n|---:|---:|---:|---:|---:|---:|---:|\n');
for (const r of rows) process.stdout.write(`| ${r.docs} | ${r.clustered} | ${r.partitions} | ${r.merge_tasks} | ${r.rounds} | ${(r.max_task_peak_bytes / 1e6).toFixed(1)} | ${r.seconds} |\n`);
