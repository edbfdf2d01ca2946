/** Pipeline stages of this folder: bucket annotation for the mix, and tokenized output (which samples by plan). */
import { stageModules } from '../pipeline/registry.ts';

export const mixStageModules = stageModules(import.meta.url, {
  'mix-buckets': './bucket-stage',
  tokenize: './shards/tokenize',
});
