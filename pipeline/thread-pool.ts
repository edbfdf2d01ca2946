/** Runs tasks on worker threads (one task per thread at a time), or in this thread when size is 1. */
import { Worker } from 'node:worker_threads';
import { errorMessage, RefineryError } from './errors.ts';
import { runTask, type TaskResult } from './task.ts';
import { taskId, type RunPlan, type Task } from './run-plan.ts';
import type { FromThread } from './task-thread.ts';

export type SlotProgress = (slot: number, docs: number, bytes: number) => void;

export class TaskFailed extends RefineryError {
  override name = 'TaskFailed';
}

export class ThreadPool {
  private readonly workers: Worker[] = [];

  constructor(
    private readonly plan: RunPlan,
    readonly size: number,
  ) {
    if (size <= 1) return;
    for (let i = 0; i < size; i++) {
      const w = new Worker(new URL('./task-thread.mjs', import.meta.url), { execArgv: [] });
      w.postMessage({ type: 'plan', plan });
      this.workers.push(w);
    }
  }

  /** Runs the tasks, at most `size` at a time; rejects on the first task that fails. */
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
    const input = task.kind !== 'reduce' && shard ? ` (${shard.file}${shard.parts > 1 ? `, part ${shard.part + 1} of ${shard.parts}` : ''})` : '';
    return `task ${taskId(task)}${input} failed`;
  }

  private runOne(s: number, task: Task, onProgress: SlotProgress): Promise<TaskResult> {
    if (this.workers.length === 0) {
      return runTask(this.plan, task, (d, b) => onProgress(s, d, b)).catch((e: unknown) => {
        throw new TaskFailed(`${this.describe(task)}: ${errorMessage(e)}`, { cause: e });
      });
    }
    const w = this.workers[s]!;
    return new Promise<TaskResult>((resolve, reject) => {
      const onMessage = (m: FromThread) => {
        if (m.type === 'progress') onProgress(s, m.docs, m.bytes);
        else {
          w.off('message', onMessage);
          w.off('error', onError);
          if (m.type === 'done') resolve(m.result);
          else reject(new TaskFailed(`${this.describe(task)}: ${m.message}`));
        }
      };
      const onError = (e: Error) => {
        w.off('message', onMessage);
        reject(new TaskFailed(`${this.describe(task)}: worker thread died: ${e.message}`));
      };
      w.on('message', onMessage);
      w.once('error', onError);
      w.postMessage({ type: 'task', task });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
