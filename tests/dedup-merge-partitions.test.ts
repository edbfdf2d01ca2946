/**
 * The partitioned cluster merge (dedup/cluster-merge.ts): the same clusters and kept documents as
 * one union-find over every edge, whatever the number of partitions, including clusters that are
 * long chains across every partition; runs of real dedup stages give byte-identical outputs for 1,
 * 3 and 16 partitions; a queue run of a partitioned merge equals a local run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { TEST_REDIS } from './redis-fixture.ts';
import { UnionFind } from '../dedup/union-find.ts';
import { workFiles } from '../dedup/work-files.ts';
import { writeEdgeFile, mergeSteps, writeMergeStats, type MergeInput, type VerdictLine } from '../dedup/cluster-merge.ts';
import { runStages, runPipeline } from '../pipeline/engine/run.ts';
import { loadPipelineFile } from '../pipeline/config.ts';
import { RunQueue } from '../pipeline/queue/run-queue.ts';
import { submitRun } from '../pipeline/queue/submit.ts';
import { runStatus } from '../pipeline/queue/status.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { ProseGenerator } from './dedup-corpus.ts';
import { mulberry32 } from '../pipeline/seeded-random.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';

registerBuiltinStages();

const SHARDS = 7;
const DOCS_PER_SHARD = 300;

interface Edge {
  a: [number, number];
  b: [number, number];
}

/** Stars, random small clusters, a 500-long chain visiting every shard, and ranks that are not in ref order. */
function graph(seed: number): { edges: Edge[]; rank: Map<string, number> } {
  const rng = mulberry32(seed);
  const doc = (): [number, number] => [Math.floor(rng() * SHARDS), Math.floor(rng() * DOCS_PER_SHARD)];
  const edges: Edge[] = [];
  const chain: [number, number][] = [];
  for (let i = 0; i < 500; i++) chain.push(doc());
  for (let i = 1; i < chain.length; i++) edges.push({ a: chain[i - 1]!, b: chain[i]! });
  for (let c = 0; c < 40; c++) {
    const center = doc();
    for (let k = 0; k < 1 + Math.floor(rng() * 6); k++) edges.push({ a: center, b: doc() });
  }
  for (let c = 0; c < 60; c++) {
    const x = doc();
    const y = doc();
    edges.push({ a: x, b: y }, { a: y, b: doc() });
  }
  const rank = new Map<string, number>();
  for (const e of edges) for (const d of [e.a, e.b]) rank.set(d.join(','), rng() < 0.7 ? 0 : Math.floor(rng() * 5));
  return { edges: edges.filter((e) => e.a.join() !== e.b.join()), rank };
}

/** Verdict lines per shard from one union-find over every edge (the single merge this replaced). */
function expectedVerdicts(name: string, edges: Edge[], rank: Map<string, number>): string[] {
  const key = (d: [number, number]) => d[0] * DOCS_PER_SHARD + d[1];
  const uf = new UnionFind(SHARDS * DOCS_PER_SHARD);
  for (let i = 0; i < SHARDS * DOCS_PER_SHARD; i++) uf.add();
  const nodes = new Set<number>();
  for (const e of edges) {
    uf.union(key(e.a), key(e.b));
    nodes.add(key(e.a));
    nodes.add(key(e.b));
  }
  const rankOf = (k: number) => rank.get(`${Math.floor(k / DOCS_PER_SHARD)},${k % DOCS_PER_SHARD}`)!;
  const best = new Map<number, number>();
  for (const k of [...nodes].sort((x, y) => x - y)) {
    const r = uf.find(k);
    const b = best.get(r);
    if (b === undefined || rankOf(k) < rankOf(b)) best.set(r, k);
  }
  const kept = [...best.values()].sort((x, y) => x - y);
  const number = new Map(kept.map((k, i) => [k, i]));
  const out: string[][] = Array.from({ length: SHARDS }, () => []);
  for (const k of [...nodes].sort((x, y) => x - y)) {
    const b = best.get(uf.find(k))!;
    const v: VerdictLine = { pos: k % DOCS_PER_SHARD, id: `d${k}`, cluster: `${name}/${number.get(b)}`, duplicate_of: b === k ? null : `d${b}` };
    out[Math.floor(k / DOCS_PER_SHARD)]!.push(JSON.stringify(v));
  }
  return out.map((l) => (l.length ? l.join('\n') + '\n' : ''));
}

/** Writes what map and reduce would (doc indexes, edge files, reduce statistics) and runs the merge steps. */
async function merge(dir: string, partitions: number, edges: Edge[], rank: Map<string, number>): Promise<{ verdicts: string[]; rounds: number; stats: string }> {
  const m: MergeInput = { name: 'test-dedup', workDir: join(dir, 'work'), outputDir: join(dir, 'out'), files: folderFiles, partitions, settings: {} };
  for (let s = 0; s < SHARDS; s++) {
    const lines = Array.from({ length: DOCS_PER_SHARD }, (_, p) => JSON.stringify([`d${s * DOCS_PER_SHARD + p}`, 100 + p]));
    await mkdir(join(m.workDir, 'docs'), { recursive: true });
    await writeFile(workFiles.docIndex(m.workDir, s), lines.join('\n') + '\n');
  }
  // Edges go to reduce partitions in an arbitrary way, as band keys would send them.
  for (let p = 0; p < partitions; p++) {
    const words: number[] = [];
    edges.forEach((e, i) => {
      if (i % partitions !== p) return;
      for (const d of [e.a, e.b]) words.push(d[0], d[1], 0, rank.get(d.join(','))!);
    });
    await writeEdgeFile(workFiles.edges(m.workDir, p), words, SHARDS, partitions);
    await writeFile(workFiles.reduceStats(m.workDir, p), JSON.stringify({ merged_pairs: words.length / 8 }));
  }
  let rounds = 0;
  for (const step of mergeSteps(m)) {
    for (let round = 0; ; round++) {
      let left = 0;
      for (let q = 0; q < step.tasks; q++) left += (await step.run(q, round, SHARDS)) ?? 0;
      if (step.repeat) rounds = round + 1;
      if (!step.repeat || left === 0) break;
    }
  }
  await writeMergeStats(m);
  const verdicts = await Promise.all(Array.from({ length: SHARDS }, (_, s) => readFile(workFiles.verdicts(m.workDir, s), 'utf8')));
  return { verdicts, rounds, stats: await readFile(join(m.outputDir, 'stats', 'test-dedup.json'), 'utf8') };
}

test('the partitioned merge gives the clusters and kept documents of one union-find, for 1, 3 and 16 partitions, and a 500-long chain takes far fewer rounds than its length', async () => {
  const { edges, rank } = graph(7);
  const expected = expectedVerdicts('test-dedup', edges, rank);
  const dir = await mkdtemp(join(tmpdir(), 'merge-parts-'));
  let stats: string | null = null;
  for (const p of [1, 3, 16]) {
    const r = await merge(join(dir, `p${p}`), p, edges, rank);
    assert.deepEqual(r.verdicts, expected, `${p} partitions`);
    assert.ok(r.rounds < 40, `${p} partitions: ${r.rounds} rounds`);
    const s = JSON.parse(r.stats) as Record<string, unknown>;
    delete s.merged_pairs;
    stats ??= JSON.stringify(s);
    assert.equal(JSON.stringify(s), stats);
  }
  const s = JSON.parse(stats!) as { docs_in: number; removed_docs: number; docs_in_clusters: number; clusters: number };
  assert.equal(s.docs_in, SHARDS * DOCS_PER_SHARD);
  assert.equal(s.removed_docs, s.docs_in_clusters - s.clusters);
  assert.equal(s.removed_docs, expected.join('').split('\n').filter((l) => l.includes('"duplicate_of":"')).length);
  await rm(dir, { recursive: true, force: true });
});

/** Shards whose duplicates sit in other shards: exact copies, and near-copies for MinHash. */
async function writeCorpus(into: string): Promise<void> {
  const gen = new ProseGenerator(11);
  const originals = Array.from({ length: 60 }, () => gen.document(80));
  const rng = mulberry32(5);
  await mkdir(into, { recursive: true });
  for (let s = 0; s < 6; s++) {
    const lines: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = rng();
      const o = originals[Math.floor(rng() * originals.length)]!;
      const text = r < 0.3 ? o : r < 0.5 ? gen.mutate(o, 0.02) : gen.document(80);
      lines.push(JSON.stringify({ id: `s${s}-${i}`, text }));
    }
    await writeFile(join(into, `part-${s}.jsonl`), lines.join('\n') + '\n');
  }
}

async function outputBytes(out: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  for (const sub of ['kept', 'rejected', 'errors']) for (const n of (await readdir(join(out, sub))).sort()) files.set(`${sub}/${n}`, await readFile(join(out, sub, n)));
  return files;
}

test('exact and MinHash dedup runs with 1, 3 and 16 partitions write byte-identical outputs; stats.json lists every phase with its peak memory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'merge-run-'));
  await writeCorpus(join(dir, 'in'));
  let reference: Map<string, Buffer> | null = null;
  for (const partitions of [1, 3, 16]) {
    const out = join(dir, `out-${partitions}`);
    await runStages({ inputs: [join(dir, 'in')], output: out, stages: [{ stage: 'exact-dedup', options: { partitions } }, { stage: 'minhash-dedup', options: { partitions } }], workers: 2, quiet: true });
    const files = await outputBytes(out);
    reference ??= files;
    assert.deepEqual([...files.keys()], [...reference.keys()]);
    for (const [k, v] of reference) assert.ok(files.get(k)!.equals(v), `${k} differs with ${partitions} partitions`);
    const stats = JSON.parse(await readFile(join(out, 'stats.json'), 'utf8')) as { stages: { name: string; rejected: number }[]; phases: { stage: string; phase: string; tasks: number; seconds: number; max_task_peak_bytes: number; rounds?: number }[] };
    assert.ok(stats.stages.find((s) => s.name === 'exact-dedup')!.rejected > 0);
    assert.ok(stats.stages.find((s) => s.name === 'minhash-dedup')!.rejected > 0);
    const phases = stats.phases.map((p) => `${p.stage} ${p.phase}`);
    assert.deepEqual(phases.slice(0, 8), ['read process', 'exact-dedup map', 'exact-dedup reduce', 'exact-dedup merge', 'exact-dedup resolve requests', 'exact-dedup resolve answers', 'exact-dedup resolve verdicts', 'exact-dedup finish']);
    const mergePhase = stats.phases.find((p) => p.stage === 'exact-dedup' && p.phase === 'merge')!;
    assert.ok(mergePhase.rounds! >= 2);
    assert.equal(mergePhase.tasks, mergePhase.rounds! * partitions);
    for (const p of stats.phases) assert.ok(p.max_task_peak_bytes > 1e6 && p.seconds >= 0, `${p.stage} ${p.phase}: ${p.max_task_peak_bytes}`);
  }
  await rm(dir, { recursive: true, force: true });
});

test('a queue run of a partitioned merge (two worker processes) writes the local run\'s output byte for byte', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'merge-queue-'));
  await writeCorpus(join(dir, 'in'));
  const pipeline = (name: string) =>
    ['inputs: in/*.jsonl', `output: out-${name}`, 'workers: 1', 'stages:', '  - stage: exact-dedup', '    options: { partitions: 3 }', '  - stage: minhash-dedup', '    options: { partitions: 4 }', ''].join('\n');
  await writeFile(join(dir, 'local.yaml'), pipeline('local'));
  await writeFile(join(dir, 'queue.yaml'), pipeline('queue'));
  await runPipeline(await loadPipelineFile(join(dir, 'local.yaml')), { quiet: true });
  const prefix = `{merge-q-${process.pid}}`;
  const target = { redis: TEST_REDIS, queue: 'runs', prefix, cluster: false };
  const bin = fileURLToPath(new URL('../bin/refinery.mjs', import.meta.url));
  const workers = [0, 1].map(() => spawn(process.execPath, [bin, 'worker', '--redis', target.redis, '--queue', target.queue, '--prefix', prefix, '-c', '1'], { cwd: dir, stdio: 'ignore', env: { ...process.env, REFINERY_FROM_SOURCE: '1' } }));
  const rq = RunQueue.open(target);
  try {
    const { run } = await submitRun(rq, await loadPipelineFile(join(dir, 'queue.yaml')), { force: true, retry: { attempts: 2, backoff: 100 } });
    const end = Date.now() + 240_000;
    for (;;) {
      const s = await runStatus(rq, (await rq.records.get(run))!);
      if (s.state !== 'running') {
        assert.equal(s.state, 'completed');
        // a repeating phase counts the tasks of every round it ran, not round 0's only
        const merge = s.phases.find((p) => p.name === 'merge minhash-dedup')!;
        assert.ok(merge.rounds! >= 2);
        assert.equal(merge.tasks, merge.rounds! * 4);
        assert.equal(merge.done, merge.tasks);
        break;
      }
      assert.ok(Date.now() < end, 'the queue run did not end in 240 s');
      await sleep(200);
    }
    const [mine, local] = await Promise.all([outputBytes(join(dir, 'out-queue')), outputBytes(join(dir, 'out-local'))]);
    assert.deepEqual([...mine.keys()], [...local.keys()]);
    for (const [k, v] of local) assert.ok(mine.get(k)!.equals(v), `${k} differs from the local run's`);
    const stats = JSON.parse(await readFile(join(dir, 'out-queue', 'stats.json'), 'utf8')) as { phases: { stage: string; phase: string; rounds?: number }[] };
    assert.ok(stats.phases.find((p) => p.stage === 'minhash-dedup' && p.phase === 'merge')!.rounds! >= 2);
  } finally {
    for (const w of workers) w.kill('SIGTERM');
    await rq.close();
    const redis = new Redis(target.redis);
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length) await redis.del(...keys);
    redis.disconnect();
    await rm(dir, { recursive: true, force: true });
  }
});
