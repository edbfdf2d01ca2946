/** Pipeline stages of this folder: model-based scoring (quality, topic). */
import type { AnyStageDefinition } from '../pipeline/stage.ts';

export const classifierStages: AnyStageDefinition[] = [];
