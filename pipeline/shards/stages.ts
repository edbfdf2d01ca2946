/** Pipeline stages of this folder: tokenized Parquet output (tokenize). */
import type { AnyStageDefinition } from '../stage.ts';

export const shardStages: AnyStageDefinition[] = [];
