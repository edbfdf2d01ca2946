/**
 * What a task reads of its run's storage. A task works in a local folder laid out as the run
 * folder (`TaskSpace.dir`); before it reads a file another task wrote, it asks for it here. On a
 * local or shared folder the files are already there and these calls only look; on a bucket they
 * fetch what is asked (a whole object, or a byte range), and nothing else.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';

export interface RunFiles {
  /** Makes the run's file at `path` (a path below the task's folder) readable there; false when the run has no such file. */
  need(path: string): Promise<boolean>;
  /** `length` bytes of the run's file at `path` from byte `start` (fewer at its end). */
  readRange(path: string, start: number, length: number): Promise<Uint8Array>;
  /** The names in the run's folder at `path` (files and sub-folders), sorted; none when it has no such folder. */
  list(path: string): Promise<string[]>;
}

/** Bytes of a local file, read with positioned reads. */
export function readLocalRange(path: string, start: number, length: number): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const out = new Uint8Array(length);
    let got = 0;
    while (got < length) {
      const n = readSync(fd, out, got, length - got, start + got);
      if (n === 0) break;
      got += n;
    }
    return got === length ? out : out.subarray(0, got);
  } finally {
    closeSync(fd);
  }
}

/** The folder of an entry of a recursive readdir (`parentPath` from Node 20.12, `path` before). */
export function entryFolder(e: { parentPath?: string; path?: string }): string {
  return e.parentPath ?? e.path ?? '';
}

/** A folder every task sees: the files are where the paths say. */
export const folderFiles: RunFiles = {
  need: async (path) => (await stat(path).catch(() => null)) !== null,
  readRange: async (path, start, length) => readLocalRange(path, start, length),
  list: async (path) => (await readdir(path).catch(() => [] as string[])).sort(),
};

/** The run's file at `path`, asked for and read whole; an error naming it when the run has none. */
export async function readRunFile(files: RunFiles, path: string): Promise<Buffer> {
  if (!(await files.need(path))) throw new Error(`${path}: missing from the run's storage (the task that writes it has finished?)`);
  return readFile(path);
}

/** The same, as UTF-8 text. */
export async function readRunText(files: RunFiles, path: string): Promise<string> {
  return (await readRunFile(files, path)).toString('utf8');
}

/** Asks for many files at once (a reducer's inputs from every shard): at most 8 requests in flight on a bucket. */
export async function needAll(files: RunFiles, paths: string[]): Promise<boolean[]> {
  const out = new Array<boolean>(paths.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(8, paths.length) }, async () => {
      while (next < paths.length) {
        const i = next++;
        out[i] = await files.need(paths[i]!);
      }
    }),
  );
  return out;
}
