/**
 * Runs the tasks of a phase on worker threads (or in this thread when size is 1), at most `size`
 * at a time, and warns when a process task stops making progress (stallWatch).
 */
import { errorMessage, RefineryError } from '../errors.ts';
import { runTask } from './task.ts';
import type { TaskResult } from './markers.ts';
import { TaskThreads } from './task-threads.ts';
import { taskId, type RunPlan, type Task } from './run-plan.ts';

/** A running task's progress: documents and bytes of text read so far by the task on thread `slot`. */
export type SlotProgress = (slot: number, docs: number, bytes: number, task: Task) => void;

export class TaskFailed extends RefineryError {
  override name = 'TaskFailed';
}

export class ThreadPool {
  private readonly threads: TaskThreads | null;

  constructor(
    private readonly plan: RunPlan,
    readonly size: number,
  ) {
    this.threads = size > 1 ? new TaskThreads(size) : null;
  }

  /** Runs the tasks; rejects on the first task that fails (after the tasks in flight end). */
  async runAll(tasks: Task[], onProgress: SlotProgress, onDone: (slot: number, r: TaskResult) => void): Promise<TaskResult[]> {
    const results: TaskResult[] = new Array(tasks.length);
    let next = 0;
    let failure: Error | null = null;
    const slot = async (s: number) => {
      while (next < tasks.length && !failure) {
        const i = next++;
        try {
          const r = await this.runOne(s, tasks[i]!, onProgress);
          results[i] = r;
          onDone(s, r);
        } catch (e) {
          failure ??= e as Error;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.size, tasks.length)) }, (_, s) => slot(s)));
    if (failure) throw failure;
    return results;
  }

  private describe(task: Task): string {
    const shard = this.plan.shards[task.index];
    const input = (task.kind === 'process' || task.kind === 'map') && shard ? ` (${shard.file}${shard.parts > 1 ? `, part ${shard.part + 1} of ${shard.parts}` : ''})` : '';
    return `task ${taskId(task)}${input}`;
  }

  private async runOne(s: number, task: Task, onProgress: SlotProgress): Promise<TaskResult> {
    const stall = stallWatch(task, () => this.describe(task));
    const progress = (docs: number, bytes: number) => {
      stall?.progress(docs);
      onProgress(s, docs, bytes, task);
    };
    try {
      return this.threads ? await this.threads.run(this.plan.configHash, this.plan, task, progress) : await runTask(this.plan, task, progress);
    } catch (e) {
      throw new TaskFailed(`${this.describe(task)} failed: ${errorMessage(e)}`, { cause: e });
    } finally {
      stall?.stop();
    }
  }

  async close(): Promise<void> {
    await this.threads?.close();
  }
}

/**
 * Seconds a process task may go without reading a new batch before a warning names it
 * (`REFINERY_STALL_SECONDS`; 0 turns the warning off). A stage stuck on one document would
 * otherwise hold its thread, and the run, without a word.
 */
function stallSeconds(): number {
  const v = Number(process.env.REFINERY_STALL_SECONDS ?? DEFAULT_STALL_SECONDS);
  return Number.isFinite(v) && v >= 0 ? v : DEFAULT_STALL_SECONDS;
}

const DEFAULT_STALL_SECONDS = 600;

/**
 * Warns on stderr each time a process task (the tasks that report progress, batch by batch) has
 * gone another `stallSeconds()` without progress; null for the other tasks, which report none.
 */
function stallWatch(task: Task, name: () => string): { progress(docs: number): void; stop(): void } | null {
  const limit = stallSeconds();
  if (task.kind !== 'process' || limit === 0) return null;
  let last = Date.now();
  let docs = 0;
  let warned = 0;
  const timer = setInterval(() => {
    const idle = (Date.now() - last) / 1000;
    if (idle < limit * (warned + 1)) return;
    warned++;
    process.stderr.write(
      `refinery: warning: ${name()} has read no new documents for ${Math.round(idle)} s (${docs} read): a stage may be stuck on a document, or the task is still writing its outputs (REFINERY_STALL_SECONDS sets this wait)\n`,
    );
  }, Math.max(250, Math.min(limit * 250, 30_000)));
  timer.unref();
  return {
    progress(n) {
      last = Date.now();
      docs = n;
      warned = 0;
    },
    stop: () => clearInterval(timer),
  };
}

