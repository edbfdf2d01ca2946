/**
 * A finished run opened for reading (and, for `refinery remove`, rewriting), whether it is a
 * folder or an `s3://bucket/prefix`: the commands that read runs (inspect, report, mix census,
 * export megatron, remove) take either, through this one opener.
 *
 * A folder is read where it is. A bucket run is read through a scratch folder laid out as the
 * run (the bucket store's task space): a file is fetched into it when a command asks for it
 * (`files.need`), byte ranges are read without fetching, and a file a command writes there is
 * stored back whole by `put` (one object written in one piece).
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { RefineryError } from '../errors.ts';
import { isS3Url, objectUrlProblem } from '../io/storage.ts';
import { folderFiles, type RunFiles } from './files.ts';

export interface OpenedRun {
  /** The run folder, or its s3:// URL: what messages name. */
  readonly location: string;
  /** A local folder laid out as the run: the run folder itself, or a scratch folder a bucket's files are fetched into. */
  readonly dir: string;
  /** Reads the run's files below `dir` (see RunFiles: ask before reading a file). */
  readonly files: RunFiles;
  readonly onBucket: boolean;
  /** Where the run's file at `path` (below `dir`) is, for messages: a path, or an object URL. */
  where(path: string): string;
  /** Stores the file at `path` (below `dir`), written whole there: on a bucket, one object written in one piece; in a folder it is in place already. */
  put(path: string): Promise<void>;
  /** Deletes the run's files at `paths` (below `dir`): the files, and on a bucket their objects too. */
  delete(paths: string[]): Promise<void>;
  /** Holds the run's run.lock (no run may write it meanwhile); the function releases it. */
  lock(): Promise<() => Promise<void>>;
  /** Deletes the scratch folder of a bucket run. */
  close(): Promise<void>;
}

/** `s3://bucket/prefix` without its final "/", or an error naming what is wrong with it. */
function runUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, '');
  const problem = objectUrlProblem(`${trimmed}/run.json`);
  if (problem) throw new RefineryError(`${url}: ${problem}`);
  return trimmed;
}

/** Opens the run at a folder path or an s3:// URL. Nothing is fetched yet; callers ask `files` for what they read. */
export async function openRun(pathOrUrl: string, options: { scratch?: string } = {}): Promise<OpenedRun> {
  if (!isS3Url(pathOrUrl)) {
    // The path as given, so that messages and reports name the run as the user did.
    const dir = pathOrUrl;
    return {
      location: pathOrUrl,
      dir,
      files: folderFiles,
      onBucket: false,
      where: (path) => path,
      put: async () => {},
      delete: async (paths) => {
        for (const p of paths) await rm(p, { force: true });
      },
      lock: async () => (await import('./folder-lock.ts')).lockOutput(dir),
      close: async () => {},
    };
  }
  const location = runUrl(pathOrUrl);
  const { BucketStore, objectUrl } = await import('./bucket.ts');
  const store = new BucketStore({ output: location, inputs: [], inputsFromCommandLine: false, ...(options.scratch ? { scratch: options.scratch } : {}) });
  const space = await store.openTask();
  const keyOf = (path: string) => {
    const rel = path.startsWith(space.dir + '/') ? path.slice(space.dir.length + 1) : null;
    if (rel === null) throw new RefineryError(`${path}: not a file of the run ${location}`);
    return rel;
  };
  return {
    location,
    dir: space.dir,
    files: { need: (p) => space.need(p), readRange: (p, s, n) => space.readRange(p, s, n), list: (p) => space.list(p) },
    onBucket: true,
    where: (path) => objectUrl(location, keyOf(path)),
    put: async (path) => (await import('../io/s3.ts')).uploadFile(path, objectUrl(location, keyOf(path))),
    delete: async (paths) => {
      if (paths.length === 0) return;
      const { deleteOutputObjects } = await import('../io/s3.ts');
      await deleteOutputObjects(location, paths.map(keyOf).sort());
      for (const p of paths) await rm(p, { force: true });
    },
    lock: () => store.lock(),
    close: () => space.close(),
  };
}

/** The run at `pathOrUrl` opened for the time of `work`, its scratch deleted after. */
export async function withRun<T>(pathOrUrl: string, work: (run: OpenedRun) => Promise<T>, options: { scratch?: string } = {}): Promise<T> {
  const run = await openRun(pathOrUrl, options);
  try {
    return await work(run);
  } finally {
    await run.close();
  }
}

/** The local path of the run's file `rel` (a path relative to the run, with "/"). */
export function runPath(run: Pick<OpenedRun, 'dir'>, rel: string): string {
  return join(run.dir, ...rel.split('/'));
}
