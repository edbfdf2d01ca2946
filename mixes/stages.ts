/** Pipeline stages of this folder: the mix (sampling by plan). */
import type { AnyStageDefinition } from '../pipeline/stage.ts';

export const mixStages: AnyStageDefinition[] = [];
