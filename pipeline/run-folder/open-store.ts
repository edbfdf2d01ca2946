/** The one place that chooses a run's storage: its output folder, or its bucket prefix (store.ts). */
import type { RunConfig } from '../config.ts';
import { isS3Url } from '../io/storage.ts';
import type { RunStore } from './store.ts';

export async function openRunStore(config: RunConfig): Promise<RunStore> {
  if (isS3Url(config.output)) return new (await import('./bucket.ts')).BucketStore(config);
  return new (await import('./folder.ts')).FolderStore(config);
}
