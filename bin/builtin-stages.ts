/**
 * The built-in stages, handed to the core's registry as plugins are: by name, each mapped to the
 * module that defines it, so that a run imports only the stages it uses; and the built-in tallies
 * (the report's counts of every document), which every process task runs.
 */
import { registerStageModules } from '../pipeline/registry.ts';
import { filterStageModules } from '../filters/stages.ts';
import { dedupStageModules } from '../dedup/stages.ts';
import { classifierStageModules } from '../classifiers/stages.ts';
import { mixStageModules } from '../mixes/stages.ts';
import { decontamStageModules } from '../decontam/stages.ts';
import { registerTallyModules } from '../pipeline/engine/tallies.ts';
import { mixTallyModules } from '../mixes/tallies.ts';

export const builtinStageModules = { ...filterStageModules, ...dedupStageModules, ...classifierStageModules, ...mixStageModules, ...decontamStageModules };

export function registerBuiltinStages(): void {
  registerStageModules(builtinStageModules);
  registerTallyModules(mixTallyModules);
}
