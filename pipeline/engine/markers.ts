/**
 * Task markers: a finished task leaves its result under `_work/tasks/` of the run's storage; a
 * phase is finished when every task of it (every round, for a repeating phase) has one.
 */
import type { RunConfig } from '../config.ts';
import { openRunStore } from '../run-folder/open-store.ts';
import type { RunStore, StoredIo } from '../run-folder/store.ts';
import { layout, roundTasks, type Phase, type RunPlan, type Task } from './run-plan.ts';
import type { ReadStats, StageStats } from '../stats.ts';

/** What a task records in its marker (and returns). */
export interface TaskResult {
  task: Task;
  /** Present on process tasks of segment 0. */
  read?: ReadStats;
  /** Per-document stages run by a process task (the applier of a global stage first). */
  stages: StageStats[];
  /** Seconds spent in a map, reduce, step or finish task, charged to its global stage. */
  seconds: number;
  keptWritten: number;
  /** Work a task of a repeating step left for the next round (0: none). */
  pending?: number;
  /** Seconds the whole task took, and the peak of heap plus array buffers in its thread (task-memory.ts). */
  elapsed?: number;
  peak_bytes?: number;
  /** What the task moved to and from a bucket (files and bytes stored, read requests and bytes fetched); absent on a folder store. */
  stored?: StoredIo;
  /** Tasks this one did on the way (a process task runs the next global stage's map): their results, marked with it. */
  alongside?: TaskResult[];
  /** A process task's part of each registered tally, by tally name (tallies.ts). */
  tallies?: Record<string, unknown>;
}

const stores = new Map<string, Promise<RunStore>>();

/** The run's storage (one per output in a process). */
export function storeOf(config: RunConfig): Promise<RunStore> {
  const key = JSON.stringify([config.output, config.scratch ?? null, config.inputs]);
  let store = stores.get(key);
  if (!store) stores.set(key, (store = openRunStore(config)));
  return store;
}

/** Whether a round of a repeating phase left no work (its tasks' results). */
export function roundConverged(results: TaskResult[]): boolean {
  return results.every((r) => (r.pending ?? 0) === 0);
}

/**
 * The recorded results of a phase if every task of it finished (every round up to the one that
 * converged, for a repeating phase), else null.
 */
export async function finishedPhase(plan: RunPlan, phase: Phase): Promise<TaskResult[] | null> {
  const out: TaskResult[] = [];
  for (let round = 0; ; round++) {
    const results = await finishedTasks(plan, roundTasks(phase, round));
    if (results.some((r) => r === null)) return null;
    out.push(...(results as TaskResult[]));
    if (!phase.repeat || roundConverged(results as TaskResult[])) return out;
  }
}

/** The recorded result of a finished task, or null if it has not finished. */
export async function finishedTask(plan: RunPlan, task: Task): Promise<TaskResult | null> {
  const text = await (await storeOf(plan.config)).read(layout.markerKey(task));
  return text === null ? null : (JSON.parse(text) as TaskResult);
}

/**
 * The recorded results of these tasks (null for each unfinished one): one listing of the markers,
 * then the present markers read, eight at a time.
 */
export async function finishedTasks(plan: RunPlan, tasks: Task[]): Promise<(TaskResult | null)[]> {
  const store = await storeOf(plan.config);
  const present = new Set(await store.list('_work/tasks'));
  const out = new Array<TaskResult | null>(tasks.length).fill(null);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < tasks.length) {
        const i = next++;
        const key = layout.markerKey(tasks[i]!);
        if (!present.has(key.slice('_work/tasks/'.length))) continue;
        const text = await store.read(key);
        out[i] = text === null ? null : (JSON.parse(text) as TaskResult);
      }
    }),
  );
  return out;
}
