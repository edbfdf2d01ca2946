/** Pipeline stages of this folder: the contamination ledger and the benchmark decontamination filter. */
import { stageModules } from '../pipeline/registry.ts';

/** Stage name → module, loaded only when a pipeline uses the stage. */
export const decontamStageModules = stageModules(import.meta.url, {
  'decontam-index': './index-stage',
  decontam: './decontam-stage',
});
