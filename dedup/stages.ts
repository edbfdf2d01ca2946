/** Pipeline stages of this folder: deduplication (stage name → module, loaded on first use). */
import { stageModules } from '../pipeline/registry.ts';

export const dedupStageModules = stageModules(import.meta.url, {
  'exact-dedup': './exact-dedup',
  'url-dedup': './url-dedup',
  'minhash-dedup': './minhash-dedup',
  'line-dedup': './line-dedup',
  'semantic-dedup': './semantic-dedup',
});
