/** Reading a run's small JSON files for the report, whichever storage holds the run. */
import { readFile } from 'node:fs/promises';
import type { RunFiles } from '../../pipeline/run-folder/files.ts';

/** The parsed JSON file at `path`, or undefined when the run has no such file or it is not JSON. */
export async function readJsonIf(path: string, files: RunFiles): Promise<unknown | undefined> {
  try {
    if (!(await files.need(path))) return undefined;
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch {
    return undefined;
  }
}

