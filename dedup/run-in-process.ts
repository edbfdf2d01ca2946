/**
 * Runs one global dedup stage over in-memory shards the way the runner does, phase by phase,
 * creating a fresh stage instance for every task (so nothing but the work files passes between
 * tasks, as when tasks run in different processes). For tests and benchmarks; runs of files go
 * through `runStages` (pipeline/run.ts).
 */
import type { Doc } from '../pipeline/doc.ts';
import type { AnyStageDefinition, GlobalStage, StageContext, Verdict } from '../pipeline/stage.ts';

export interface InProcessResult {
  /** Verdict per document, by shard then position. */
  verdicts: Verdict[][];
  /** Seconds per phase. */
  seconds: { map: number; reduce: number; apply: number };
}

/**
 * Runs a global stage's steps (each task with a fresh stage; a repeating step round after round
 * until a round leaves no work). Returns the tasks run per step.
 */
export async function runStepsInProcess(fresh: () => Promise<GlobalStage>, count: number): Promise<number[]> {
  const tasks: number[] = [];
  const steps = (await fresh()).steps ?? [];
  for (const [k, step] of steps.entries()) {
    let ran = 0;
    for (let round = 0; ; round++) {
      let left = 0;
      for (let t = 0; t < step.tasks; t++) left += ((await (await fresh()).steps![k]!.run(t, round, count)) ?? 0);
      ran += step.tasks;
      if (!step.repeat || left === 0) break;
    }
    tasks.push(ran);
  }
  return tasks;
}

async function* iterate(docs: Doc[]): AsyncGenerator<Doc> {
  yield* docs;
}

export async function runGlobalStageInProcess(
  def: AnyStageDefinition,
  options: unknown,
  ctx: StageContext,
  shards: Doc[][],
  batchSize = 64,
): Promise<InProcessResult> {
  const fresh = async (): Promise<GlobalStage> => {
    const stage = await def.create(def.options.parse(options ?? {}), ctx);
    if (stage.kind !== 'global') throw new Error(`${def.name} is not a global stage`);
    return stage;
  };
  const count = shards.length;
  let t = performance.now();
  for (let i = 0; i < count; i++) await (await fresh()).map({ index: i, count }, iterate(shards[i]));
  const map = (performance.now() - t) / 1000;
  t = performance.now();
  const partitions = (await fresh()).partitions;
  for (let p = 0; p < partitions; p++) await (await fresh()).reduce(p, count);
  await runStepsInProcess(fresh, count);
  await (await fresh()).finish?.(count);
  const reduce = (performance.now() - t) / 1000;
  t = performance.now();
  const verdicts: Verdict[][] = [];
  for (let i = 0; i < count; i++) {
    const applier = await (await fresh()).applier({ index: i, count });
    const out: Verdict[] = [];
    for (let b = 0; b < shards[i].length; b += batchSize) out.push(...(await applier.process(shards[i].slice(b, b + batchSize))));
    await applier.close?.();
    verdicts.push(out);
  }
  return { verdicts, seconds: { map, reduce, apply: (performance.now() - t) / 1000 } };
}
