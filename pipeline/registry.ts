/** Every stage usable from pipeline YAML, by name. Each folder owns its own table. */
import { pathToFileURL } from 'node:url';
import type { AnyStageDefinition } from './stage.ts';
import { RefineryError } from './errors.ts';
import { filterStages } from '../filters/stages.ts';
import { dedupStages } from '../dedup/stages.ts';
import { classifierStages } from '../classifiers/stages.ts';
import { shardStages } from './shards/stages.ts';
import { mixStages } from '../mixes/stages.ts';


export const allStages: AnyStageDefinition[] = [
  ...filterStages,
  ...dedupStages,
  ...classifierStages,
  ...mixStages,
  ...shardStages,
];

const byName = new Map(allStages.map((d) => [d.name, d]));
const loadedPlugins = new Set<string>();

/**
 * Loads stage plugins: modules that export `stages: AnyStageDefinition[]`. Pipelines name them
 * under `plugins:`; every process that runs tasks (threads, queue workers) loads them the same way.
 */
export async function loadPlugins(files: readonly string[]): Promise<void> {
  for (const file of files) {
    if (loadedPlugins.has(file)) continue;
    const mod = (await import(pathToFileURL(file).href)) as { stages?: AnyStageDefinition[] };
    if (!Array.isArray(mod.stages)) throw new RefineryError(`plugin ${file} does not export \`stages\` (an array of stage definitions)`);
    for (const d of mod.stages) {
      if (byName.has(d.name) && byName.get(d.name) !== d) throw new RefineryError(`plugin ${file}: a stage named "${d.name}" exists already`);
      byName.set(d.name, d);
      allStages.push(d);
    }
    loadedPlugins.add(file);
  }
}

export function stageDefinition(name: string): AnyStageDefinition | undefined {
  return byName.get(name);
}

export function stageNames(): string[] {
  return allStages.map((d) => d.name);
}
