/** Pipeline stages of this folder: deduplication. */
import type { AnyStageDefinition } from '../pipeline/stage.ts';

export const dedupStages: AnyStageDefinition[] = [];
