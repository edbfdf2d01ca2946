/**
 * Worker threads that run tasks (task-thread.ts), one task per thread at a time, for whichever
 * run a task belongs to. The local runner (thread-pool.ts) and the queue worker share them. In a
 * queue worker, tasks run off the main thread so that BullMQ's lock renewal never waits behind a
 * CPU-bound stage (a late renewal would make other workers take the task as stalled), and so
 * that a task can be abandoned on shutdown.
 */
import { Worker } from 'node:worker_threads';
import type { RunPlan, Task } from './run-plan.ts';
import type { TaskResult } from './markers.ts';
import type { ProgressFn } from './stage-chain.ts';
import type { FromThread, ToThread } from './task-thread.ts';
import { RefineryError } from '../errors.ts';
import { stageModuleTable } from '../registry.ts';
import { tallyModuleTable } from './tallies.ts';

/** The task was abandoned (shutdown): its job goes back to the queue. */
export class TaskAbandoned extends RefineryError {
  override name = 'TaskAbandoned';
}

export class TaskThreadFailed extends RefineryError {
  override name = 'TaskFailed';
}

interface Slot {
  thread: Worker;
  /** Run whose plan the thread holds. */
  run: string | null;
  busy: boolean;
  abandon: (() => void) | null;
}

/** Compiled: the thread runs task-thread.js; from the sources, task-thread.mjs loads them through tsx. */
const THREAD_URL = new URL(import.meta.url.endsWith('.ts') ? './task-thread.mjs' : './task-thread.js', import.meta.url);

export class TaskThreads {
  private readonly slots: Slot[] = [];

  constructor(readonly size: number) {
    for (let i = 0; i < size; i++) this.slots.push(this.newSlot());
  }

  /** A new thread knows the stage modules this process registered (it imports them when used). */
  private newSlot(): Slot {
    const thread = new Worker(THREAD_URL, { execArgv: [] });
    thread.postMessage({ type: 'stages', modules: stageModuleTable(), tallies: tallyModuleTable() } satisfies ToThread);
    return { thread, run: null, busy: false, abandon: null };
  }

  /** Runs a task on a free thread (the caller never asks for more than `size` at once). */
  run(run: string, plan: RunPlan, task: Task, progress: ProgressFn): Promise<TaskResult> {
    const i = this.slots.findIndex((s) => !s.busy);
    if (i < 0) throw new RefineryError('no free task thread');
    const slot = this.slots[i]!;
    slot.busy = true;
    const post = (m: ToThread) => slot.thread.postMessage(m);
    if (slot.run !== run) {
      post({ type: 'plan', plan });
      slot.run = run;
    }
    return new Promise<TaskResult>((resolve, reject) => {
      const settle = () => {
        slot.thread.off('message', onMessage);
        slot.thread.off('error', onError);
        slot.thread.off('exit', onExit);
        slot.busy = false;
        slot.abandon = null;
      };
      const onMessage = (m: FromThread) => {
        if (m.type === 'progress') return progress(m.docs, m.bytes);
        settle();
        if (m.type === 'done') resolve(m.result);
        else reject(new TaskThreadFailed(m.message));
      };
      const replace = (err: Error) => {
        settle();
        this.slots[i] = this.newSlot();
        reject(err);
      };
      const onError = (e: Error) => {
        void slot.thread.terminate();
        replace(e);
      };
      const onExit = (code: number) => replace(new TaskThreadFailed(`task thread exited with code ${code}`));
      slot.abandon = () => {
        slot.thread.off('exit', onExit);
        void slot.thread.terminate();
        replace(new TaskAbandoned('task abandoned at shutdown'));
      };
      slot.thread.on('message', onMessage);
      slot.thread.once('error', onError);
      slot.thread.once('exit', onExit);
      post({ type: 'task', task });
    });
  }

  /** Tasks running now. */
  get busy(): number {
    return this.slots.filter((s) => s.busy).length;
  }

  /** Stops the tasks of run `run` in flight (a cancelled run); their `run` promises reject with TaskAbandoned. */
  abandonRun(run: string): number {
    const busy = this.slots.filter((s) => s.abandon && s.run === run);
    for (const s of busy) s.abandon?.();
    return busy.length;
  }

  /** Stops the tasks in flight; their `run` promises reject with TaskAbandoned. */
  abandonAll(): number {
    const busy = this.slots.filter((s) => s.abandon);
    for (const s of busy) s.abandon!();
    return busy.length;
  }

  async close(): Promise<void> {
    await Promise.all(this.slots.map((s) => s.thread.terminate()));
  }
}
