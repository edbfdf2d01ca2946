/** Pipeline stages of this folder: bucket annotation for the mix (sampling by plan happens in `tokenize`). */
import type { AnyStageDefinition } from '../pipeline/stage.ts';
import { mixBucketsStage } from './bucket-stage.ts';

export const mixStages: AnyStageDefinition[] = [mixBucketsStage];
