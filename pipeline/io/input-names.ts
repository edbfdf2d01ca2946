/** What names an input: the data files of a folder or prefix, globs, and the version of an input. */

/** Data files a folder (or an s3:// prefix) named as an input contributes: not READMEs, not a run's _work/. */
export const DATA_FILES = ['**/*.{jsonl,json,ndjson,parquet,warc,wet}', '**/*.{jsonl,json,ndjson,warc,wet}.{gz,zst}'];

export const hasGlob = (pattern: string): boolean => /[*?[\]{}]/.test(pattern);

/**
 * What identifies a version of an input: its size, and the modification time (local files) or
 * the ETag (objects, whose LastModified changes when the same bytes are uploaded again).
 */
export interface InputInfo {
  kind: 'file' | 'folder' | 'other';
  size: number;
  mtimeMs?: number;
  etag?: string;
}
