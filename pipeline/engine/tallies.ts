/**
 * Tallies: what a domain counts of a run's documents as the process tasks settle them (kept by the
 * last segment, rejected, errored), added up at the end the way the statistics are. The
 * composition root registers tally modules by name, as it registers stages; every process task
 * runs each registered tally over the documents it settles and returns the tally's part with its
 * result (so the part is in the task's marker); `finishRun` merges the parts in task order and
 * writes `tallies/<name>.json`. What the tallies are about is the domain's business: the core only
 * hands them documents.
 */
import { join } from 'node:path';
import type { Doc } from '../doc.ts';
import type { RunConfig } from '../config.ts';
import { RefineryError } from '../errors.ts';
import { stableJson, writeFileAtomic } from '../io/atomic.ts';
import type { RunPlan, Task } from './run-plan.ts';

/** A document a process task has settled, and where. */
export interface SettledDoc {
  outcome: 'kept' | 'rejected' | 'errored';
  /** The document as written (an unreadable input record: its id, and its raw text when there is one). */
  doc: Doc;
  /** Position in the config's stage list of the stage that rejected it or threw on it; absent when kept or unreadable. */
  stage?: number;
  /** An input record that could not be read (it reached no stage). */
  unreadable?: boolean;
}

/** What a tally knows of the run: its stages as configured (resolved options, overrides) and its seed. */
export interface TallyContext {
  stages: { name: string; options: unknown; overrides?: { when: Record<string, unknown>; options: unknown }[] }[];
  seed: number;
}

/** One task's tally. */
export interface Tally {
  add(d: SettledDoc): void;
  /** The task's part: JSON data. */
  part(): unknown;
}

/** What a tally module exports. */
export interface TallyModule {
  createTally(context: TallyContext): Tally;
  /** The run's tally from the parts of its process tasks, in task order (segment, then shard). */
  mergeTallies(parts: unknown[], context: TallyContext): unknown;
}

/** Tally name → URL of its module (imported when a task first runs it). */
export type TallyModuleTable = Record<string, string>;

const modules = new Map<string, string>();
const loaded = new Map<string, Promise<TallyModule>>();

export function registerTallyModules(table: Readonly<TallyModuleTable>): void {
  for (const [name, href] of Object.entries(table)) modules.set(name, href);
}

/** The registered table, for worker threads to register the same modules. */
export function tallyModuleTable(): TallyModuleTable {
  return Object.fromEntries(modules);
}

/** A tally module by file path: `stageModules`'s rule (`.ts` from the sources, `.js` compiled), for the composition root. */
export function tallyModule(base: string, file: string): string {
  return new URL(`${file}${base.endsWith('.ts') ? '.ts' : '.js'}`, base).href;
}

async function loadTally(name: string, href: string): Promise<TallyModule> {
  let mod = loaded.get(name);
  if (!mod) {
    mod = import(href).then((m: Partial<TallyModule>) => {
      if (typeof m.createTally !== 'function' || typeof m.mergeTallies !== 'function') throw new RefineryError(`tally "${name}" (${href}) does not export createTally and mergeTallies`);
      return m as TallyModule;
    });
    loaded.set(name, mod);
  }
  return mod;
}

export function tallyContext(config: RunConfig): TallyContext {
  return {
    stages: config.stages.map((s) => ({ name: s.stage, options: s.options, ...(s.overrides ? { overrides: s.overrides } : {}) })),
    seed: config.seed,
  };
}

/** A process task's tallies: `settle` hands each of them a settled document; `parts` is their parts by name (undefined when none is registered). */
export interface TaskTallies {
  settle(d: SettledDoc): void;
  parts(): Record<string, unknown> | undefined;
}

export async function openTaskTallies(config: RunConfig): Promise<TaskTallies> {
  const context = tallyContext(config);
  const open: [string, Tally][] = [];
  for (const [name, href] of [...modules].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) open.push([name, (await loadTally(name, href)).createTally(context)]);
  return {
    settle(d) {
      for (const [, t] of open) t.add(d);
    },
    parts: () => (open.length ? Object.fromEntries(open.map(([name, t]) => [name, t.part()])) : undefined),
  };
}

/**
 * Merges each registered tally over the process tasks' parts in task order and writes
 * `tallies/<name>.json` into `dir` (the finishing task's space). A tally some task has no part of
 * (its marker is from a run without the tally) is not written: half a tally would be wrong.
 */
export async function writeTallies(plan: RunPlan, results: { task: Task; tallies?: Record<string, unknown> }[], dir: string): Promise<void> {
  if (modules.size === 0) return;
  const context = tallyContext(plan.config);
  const tasks = results.filter((r) => r.task.kind === 'process').sort((a, b) => a.task.step - b.task.step || a.task.index - b.task.index);
  for (const [name, href] of modules) {
    const parts = tasks.map((r) => r.tallies?.[name]);
    if (parts.some((p) => p === undefined)) continue;
    const merged = (await loadTally(name, href)).mergeTallies(parts, context);
    await writeFileAtomic(join(dir, 'tallies', `${name}.json`), stableJson(merged, 0));
  }
}
