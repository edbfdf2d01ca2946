/**
 * The run's storage, one interface with two sides: a folder (local, or a shared filesystem every
 * worker mounts) or an `s3://bucket/prefix`. The engine (task.ts, run.ts, the queue worker) and
 * every global stage's phases go through it and never ask which side they have; `open-store.ts`
 * is the only place that chooses.
 *
 * A task works in a local folder laid out as the run folder (`TaskSpace.dir`): on a folder store
 * that is the run folder itself; on a bucket it is a scratch folder of the worker, from which the
 * task's files are uploaded, each whole, when it ends (`commit`), before its marker.
 */
import type { RunPlan } from '../engine/run-plan.ts';
import type { RunFiles } from './files.ts';
import type { QueueClaim } from './folder-record.ts';

/** What a task moved to and from a bucket: files and bytes it stored, read requests and bytes it fetched. */
export interface StoredIo {
  files: number;
  bytes: number;
  gets?: number;
  bytes_in?: number;
}

/** One task's place to work: a local folder laid out as the run folder, and the run's files it reads. */
export interface TaskSpace extends RunFiles {
  readonly dir: string;
  /** Stores every file the task wrote in `dir`, each whole (stats.json last); what it moved. */
  commit(): Promise<StoredIo>;
  /** Deletes the task's scratch (nothing on a folder store). */
  close(): Promise<void>;
}

export interface RunStore {
  /** The run folder, or the s3:// prefix URL: what messages name. */
  readonly location: string;
  /** Where the run's file `rel` (a path relative to the run, with "/") is, for messages. */
  where(rel: string): string;
  /** The same for the user at a terminal: a folder's path relative to the current folder when inside it. */
  shown(rel: string): string;
  /** The text of the run's file `rel`, or null when there is none. */
  read(rel: string): Promise<string | null>;
  /** Writes the run's file `rel` whole (never seen half-written). */
  write(rel: string, text: string): Promise<void>;
  /** The names in the run's folder `rel`, sorted. */
  list(rel: string): Promise<string[]>;
  /** Refuses an output the run must not write to (overlaps an input, the root or home folder). */
  check(): Promise<void>;
  /**
   * Makes the output this run's (or empties it with force) and records the run (run.json); a
   * queue run (`claim`) records its claim, and a local run is refused where one is working.
   */
  prepare(plan: RunPlan, force: boolean, claim?: QueueClaim): Promise<void>;
  /**
   * Holds run.lock for a run of this process; the function releases it. `tag` names a queue run's
   * finishing job, whose next attempt takes over a lock a killed attempt left.
   */
  lock(tag?: string): Promise<() => Promise<void>>;
  /** After the last task: deletes the phase data (the task markers stay, so a rerun skips every task). */
  dropPhaseData(): Promise<void>;
  /** A place for one task's work. */
  openTask(): Promise<TaskSpace>;
}
