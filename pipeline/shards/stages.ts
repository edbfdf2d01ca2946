/** Pipeline stages of this folder: tokenized Parquet output (tokenize). */
import type { AnyStageDefinition } from '../stage.ts';
import { tokenizeStage } from './tokenize-stage.ts';

export const shardStages: AnyStageDefinition[] = [tokenizeStage];
