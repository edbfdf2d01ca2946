/**
 * `--dry-run`: plans a run as `refinery run` would (config validated, every stage created once,
 * inputs expanded into shards) and describes it: inputs, shards, phases and their task counts.
 * Writes nothing: no output folder, no run.json, no lock.
 */
import type { RunConfig } from '../config.ts';
import { makePlan } from '../engine/run.ts';
import { storeOf } from '../engine/markers.ts';
import { inputName, type RunPlan } from '../engine/run-plan.ts';

/** The plan as text for a terminal. */
export function describePlan(plan: RunPlan): string {
  const { config } = plan;
  const lines: string[] = [`Dry run of ${config.file}: nothing was written.`];
  const files = new Map<string, number>();
  for (const s of plan.shards) files.set(s.file, (files.get(s.file) ?? 0) + 1);
  lines.push('', `Inputs: ${files.size} file${files.size === 1 ? '' : 's'}, ${plan.shards.length} shard${plan.shards.length === 1 ? '' : 's'} (one task per shard and per-shard phase)`);
  for (const [file, n] of files) lines.push(`  ${inputName(config, file)}${n > 1 ? `  (${n} stripes)` : ''}`);
  const trial = [
    ...(config.limit !== undefined ? [`the first ${config.limit} records of each shard`] : []),
    ...(config.sample !== undefined ? [`a sample of ${config.sample} of the documents (seed ${config.seed})`] : []),
  ];
  if (trial.length) lines.push(`Trial run: reads only ${trial.join(', then ')}`);
  lines.push(`Output: ${config.output}${config.scratch ? ` (task scratch in ${config.scratch})` : ''}`);
  lines.push('', `Stages: ${config.stages.map((s) => `${s.stage}${s.mode ? ` (${s.mode})` : ''}`).join(' → ') || '(none: documents are copied to kept/)'}`);
  const total = plan.phases.reduce((a, p) => a + p.tasks.length, 0);
  lines.push('', `Phases: ${plan.phases.length}, ${total} tasks`);
  const width = Math.max(...plan.phases.map((p) => p.name.length));
  plan.phases.forEach((p, i) => {
    lines.push(`  ${String(i + 1).padStart(2)}. ${p.name.padEnd(width)}  ${String(p.tasks.length).padStart(6)} task${p.tasks.length === 1 ? '' : 's'}${p.repeat ? ' per round, in rounds until no work is left' : ''}`);
  });
  return `${lines.join('\n')}\n`;
}

/** Plans the run without running it (the output folder is checked, not created) and returns its description. */
export async function dryRun(config: RunConfig): Promise<string> {
  await (await storeOf(config)).check();
  return describePlan(await makePlan(config));
}
