/**
 * Where input files live: the local file system, or S3-compatible object storage for paths that
 * are `s3://bucket/key` URLs. The readers and the planner open, size and list inputs only through
 * these three functions; the AWS SDK (./s3.ts) is imported the first time an s3:// path is met,
 * so local runs never load it.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { glob } from 'tinyglobby';
import { DATA_FILES, type InputInfo } from './input-names.ts';

export const isS3Url = (path: string): boolean => path.startsWith('s3://');


/**
 * What is wrong with an object URL as a store or a proxy may read it, or null: a bucket is named,
 * and no part of the key is `.`, `..` or empty (but a final "/"), forms that some stores and proxies
 * normalise, so that two URLs could name the same objects past the ownership, overlap and lock checks.
 */
export function objectUrlProblem(url: string): string | null {
  const m = /^s3:\/\/([^/]*)(?:\/(.*))?$/.exec(url);
  if (!m || !m[1]) return 'expected s3://bucket or s3://bucket/key';
  const parts = (m[2] ?? '').replace(/\/$/, '').split('/');
  if (m[2] !== undefined && m[2] !== '' && parts.some((p) => p === '' || p === '.' || p === '..')) return 'a part of the key is ".", ".." or empty (two slashes): name each object one way';
  return null;
}


const s3 = () => import('./s3.ts');

/** The input's kind and version, or null when nothing is there. */
export async function statInput(path: string): Promise<InputInfo | null> {
  if (isS3Url(path)) return (await s3()).statObject(path);
  const st = await stat(path).catch(() => null);
  if (!st) return null;
  return { kind: st.isFile() ? 'file' : st.isDirectory() ? 'folder' : 'other', size: st.size, mtimeMs: st.mtimeMs };
}

/** A stream of the input's bytes, read as they come (an object is streamed from its GET, not downloaded first). */
export async function openInput(path: string, highWaterMark = 1 << 20): Promise<Readable> {
  if (isS3Url(path)) return (await s3()).openObject(path);
  return createReadStream(path, { highWaterMark });
}

/**
 * The files a glob matches (onlyFiles, absolute), or the data files under a folder; for s3://
 * URLs the same glob semantics (picomatch, as tinyglobby uses) over the keys a ListObjectsV2 of
 * the pattern's fixed prefix returns.
 */
export async function listInputs(pattern: string, as: 'glob' | 'folder'): Promise<string[]> {
  if (isS3Url(pattern)) return (await s3()).listObjects(pattern, as);
  if (as === 'glob') return glob(pattern, { absolute: true, onlyFiles: true, expandDirectories: false });
  return glob(DATA_FILES, { cwd: pattern, absolute: true, onlyFiles: true, ignore: ['**/_work/**'] });
}

/**
 * A local path for a reader that needs random access (Parquet, through DuckDB): the file itself,
 * or an object downloaded to a temporary file, which `done` deletes.
 */
export async function localCopy(path: string): Promise<{ path: string; done: () => Promise<void> }> {
  if (isS3Url(path)) return (await s3()).downloadObject(path);
  return { path, done: async () => {} };
}
