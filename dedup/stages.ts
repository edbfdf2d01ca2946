/** Pipeline stages of this folder: deduplication. */
import type { AnyStageDefinition } from '../pipeline/stage.ts';
import { exactDedupStage } from './exact-dedup.ts';
import { urlDedupStage } from './url-dedup.ts';
import { minhashDedupStage } from './minhash-dedup.ts';
import { lineDedupStage } from './line-dedup.ts';
import { semanticDedupStage } from './semantic-dedup.ts';

export const dedupStages: AnyStageDefinition[] = [exactDedupStage, urlDedupStage, minhashDedupStage, lineDedupStage, semanticDedupStage];
