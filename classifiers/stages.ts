/** Pipeline stages of this folder: model-based scoring (quality, and topic via `field: category`). */
import type { AnyStageDefinition } from '../pipeline/stage.ts';
import { qualityStage } from './quality-stage.ts';

export const classifierStages: AnyStageDefinition[] = [qualityStage];
