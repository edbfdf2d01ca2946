/**
 * Runs one global stage over in-memory shards through the runner (`runPipeline`, the one that
 * runs every pipeline): each shard becomes a JSONL input file, the config's stage list is that
 * stage with the given options, and what the run wrote to kept/ and rejected/ is read back as a
 * verdict and a document per input position. Tests of a global stage use it to see the stage as a
 * run uses it: a fresh stage per task, phases that share only the run's files.
 */
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Doc } from '../pipeline/doc.ts';
import type { AnyStageDefinition, Verdict } from '../pipeline/stage.ts';
import { loadStage } from '../pipeline/registry.ts';
import { runPipeline, stagesConfig } from '../pipeline/engine/run.ts';
import { layout, shardName } from '../pipeline/engine/run-plan.ts';
import { extensionFor } from '../pipeline/io/compression.ts';
import { readDocs } from '../pipeline/io/read.ts';
import type { RunStats } from '../pipeline/stats.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';

export interface GlobalStageRun {
  /** Verdict per document, by shard then position (a drop's rule and detail from `meta.reject_reason` and `meta.reject_detail`). */
  verdicts: Verdict[][];
  /**
   * Each document as the run wrote it, kept or rejected, by shard then position; its meta holds
   * what the stage set, without `reject_reason` and `reject_detail` (they are in the verdict).
   */
  docs: Doc[][];
  /** The run's output folder: stats/<stage>.json, kept/, rejected/. */
  output: string;
  /** The run's stats.json. */
  stats: RunStats;
}

export interface GlobalStageRunSettings {
  /** The run's seed (the stage's `StageContext.seed`); default 1. */
  seed?: number;
  /** Worker threads; default 1 (tasks run in this thread, one after the other). */
  workers?: number;
}

/**
 * Runs `def` (a built-in stage, registered by name) with `options` over `shards`, one input file
 * per shard. Document ids must be distinct within a shard: the documents read back are matched to
 * their input positions by id.
 */
export async function runGlobalStage(def: AnyStageDefinition, options: Record<string, unknown>, shards: Doc[][], settings: GlobalStageRunSettings = {}): Promise<GlobalStageRun> {
  registerBuiltinStages();
  if ((await loadStage(def.name)) !== def) throw new Error(`stage "${def.name}" is not the built-in stage of that name`);
  if (def.kind !== 'global') throw new Error(`${def.name} is not a global stage`);
  const dir = await mkdtemp(join(tmpdir(), `run-${def.name}-`));
  await mkdir(join(dir, 'in'));
  const inputs: string[] = [];
  for (const [i, shard] of shards.entries()) {
    checkDistinctIds(shard, i);
    // Names that sort in shard order: the runner orders its input files by name.
    const file = join(dir, 'in', `${shardName(i)}.jsonl`);
    await writeFile(file, shard.map((d) => JSON.stringify({ id: d.id, text: d.text, meta: d.meta }) + '\n').join(''));
    inputs.push(file);
  }
  const config = await stagesConfig({ inputs, output: join(dir, 'out'), stages: [{ stage: def.name, options }], workers: settings.workers ?? 1, seed: settings.seed ?? 1, baseDir: dir, origin: 'runGlobalStage' });
  const { stats } = await runPipeline(config, { quiet: true });
  if (stats.totals.errored > 0) throw new Error(`${stats.totals.errored} documents errored: see ${join(config.output, 'errors')}`);
  const ext = extensionFor(config.compression);
  const verdicts: Verdict[][] = [];
  const docs: Doc[][] = [];
  for (const [i, shard] of shards.entries()) {
    const written = new Map<string, { doc: Doc; verdict: Verdict }>();
    for (const doc of await readBack(layout.kept(config.output, i, ext))) written.set(doc.id, { doc, verdict: { keep: true } });
    for (const doc of await readBack(layout.rejected(config.output, 1, i, ext))) written.set(doc.id, { doc, verdict: rejection(doc, def.name) });
    const found = shard.map((d) => {
      const w = written.get(d.id);
      if (!w) throw new Error(`document ${d.id} of shard ${i} is in neither kept/ nor rejected/`);
      return w;
    });
    if (written.size !== shard.length) throw new Error(`shard ${i}: ${written.size} documents written for ${shard.length} read`);
    verdicts.push(found.map((w) => w.verdict));
    docs.push(found.map((w) => w.doc));
  }
  return { verdicts, docs, output: config.output, stats };
}

/** Documents read back are matched to input positions by id: an id given twice could not be told apart. */
function checkDistinctIds(shard: Doc[], index: number): void {
  const seen = new Set<string>();
  for (const d of shard) {
    if (seen.has(d.id)) throw new Error(`shard ${index}: document id ${d.id} appears twice`);
    seen.add(d.id);
  }
}

/** The documents of one output file of the run (none when the run wrote no such file). */
async function readBack(file: string): Promise<Doc[]> {
  if (!existsSync(file)) return [];
  const docs: Doc[] = [];
  for await (const item of readDocs(file)) {
    if (item.kind === 'error') throw new Error(`${file}: ${item.error}`);
    docs.push(item.doc);
  }
  return docs;
}

/** The verdict a rejected document carries (`meta.reject_reason` is `<stage>:<rule>`), taken off its meta. */
function rejection(doc: Doc, stage: string): Verdict {
  const { reject_reason: reason, reject_detail: detail, ...meta } = doc.meta;
  if (typeof reason !== 'string' || !reason.startsWith(`${stage}:`)) throw new Error(`rejected document ${doc.id} has reject_reason ${JSON.stringify(reason)}, not ${stage}:<rule>`);
  doc.meta = meta;
  const rule = reason.slice(stage.length + 1);
  return typeof detail === 'string' ? { keep: false, rule, detail } : { keep: false, rule };
}

