/**
 * The name of the manifest in a tokens folder. It starts with `_` so that readers of the folder as
 * a dataset (pyarrow and Spark skip names that start with `_` or `.`; DuckDB and `datasets` glob
 * `*.parquet`) see only the Parquet shards.
 */
import { join } from 'node:path';

export const MANIFEST_FILE = '_manifest.json';

/** The name that tokens folders written by Refinery 0.1 hold: read, never written. */
export const OLD_MANIFEST_FILE = 'manifest.json';

/** Where the manifest of the tokens folder `dir` may be, the current name first. */
export function manifestPaths(dir: string): string[] {
  return [join(dir, MANIFEST_FILE), join(dir, OLD_MANIFEST_FILE)];
}
