/** Pipeline stages of this folder: filters (langid, gopher, c4, fineweb, nsfw, outliers, code). */
import type { AnyStageDefinition } from '../pipeline/stage.ts';

export const filterStages: AnyStageDefinition[] = [];
