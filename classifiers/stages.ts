/** Pipeline stages of this folder: model-based scoring (quality, and topic via `field: category`). */
import { stageModules } from '../pipeline/registry.ts';

export const classifierStageModules = stageModules(import.meta.url, { quality: './quality-stage' });
