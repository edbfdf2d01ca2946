/** Pipeline stages of this folder: model-based scoring (quality, and topic via `field: category`) and the classifiers' ensemble. */
import { stageModules } from '../pipeline/registry.ts';

export const classifierStageModules = stageModules(import.meta.url, { quality: './quality-stage', 'quality-ensemble': './quality-ensemble' });
