/** Every stage usable from pipeline YAML, by name. Each folder owns its own table. */
import type { AnyStageDefinition } from './stage.ts';
import { filterStages } from '../filters/stages.ts';
import { dedupStages } from '../dedup/stages.ts';
import { classifierStages } from '../classifiers/stages.ts';
import { shardStages } from './shards/stages.ts';
import { mixStages } from '../mixes/stages.ts';

export const allStages: readonly AnyStageDefinition[] = [
  ...filterStages,
  ...dedupStages,
  ...classifierStages,
  ...mixStages,
  ...shardStages,
];

const byName = new Map(allStages.map((d) => [d.name, d]));

export function stageDefinition(name: string): AnyStageDefinition | undefined {
  return byName.get(name);
}

export function stageNames(): string[] {
  return allStages.map((d) => d.name);
}
