/** Worker-thread side of the local pool: receives a plan once, then tasks; posts results. */
import { parentPort } from 'node:worker_threads';
import { runTask } from './task.ts';
import type { RunPlan, Task } from './run-plan.ts';
import { errorMessage } from '../errors.ts';
import { registerStageModules, type StageModuleTable } from '../registry.ts';
import { registerTallyModules, type TallyModuleTable } from './tallies.ts';

export type ToThread = { type: 'stages'; modules: StageModuleTable; tallies: TallyModuleTable } | { type: 'plan'; plan: RunPlan } | { type: 'task'; task: Task };
export type FromThread =
  | { type: 'progress'; docs: number; bytes: number }
  | { type: 'done'; result: Awaited<ReturnType<typeof runTask>> }
  | { type: 'failed'; message: string; name: string };

let plan: RunPlan | null = null;
const port = parentPort!;
port.on('message', (msg: ToThread) => {
  if (msg.type === 'stages') {
    registerStageModules(msg.modules);
    registerTallyModules(msg.tallies);
    return;
  }
  if (msg.type === 'plan') {
    plan = msg.plan;
    return;
  }
  const post = (m: FromThread) => port.postMessage(m);
  runTask(plan!, msg.task, (docs, bytes) => post({ type: 'progress', docs, bytes })).then(
    (result) => post({ type: 'done', result }),
    (err: unknown) => post({ type: 'failed', message: errorMessage(err), name: err instanceof Error ? err.name : 'Error' }),
  );
});
