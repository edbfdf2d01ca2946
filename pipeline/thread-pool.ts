/** Runs the tasks of a phase on worker threads (or in this thread when size is 1), at most `size` at a time. */
import { errorMessage, RefineryError } from './errors.ts';
import { runTask, type TaskResult } from './task.ts';
import { TaskThreads } from './task-threads.ts';
import { taskId, type RunPlan, type Task } from './run-plan.ts';

export type SlotProgress = (slot: number, docs: number, bytes: number) => void;

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
    return `task ${taskId(task)}${input} failed`;
  }

  private async runOne(s: number, task: Task, onProgress: SlotProgress): Promise<TaskResult> {
    const progress = (docs: number, bytes: number) => onProgress(s, docs, bytes);
    try {
      return this.threads ? await this.threads.run(this.plan.configHash, this.plan, task, progress) : await runTask(this.plan, task, progress);
    } catch (e) {
      throw new TaskFailed(`${this.describe(task)}: ${errorMessage(e)}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    await this.threads?.close();
  }
}
