/**
 * Files that ship with Refinery (block lists, rubrics, package.json), found from the package's
 * root: the same path whether the code runs from the TypeScript sources or from compiled `dist/`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

export const PACKAGE_ROOT = findRoot();

/** A shipped file, by its path in the repository, e.g. `packagePath('filters', 'nsfw', 'url-words.txt')`. */
export function packagePath(...parts: string[]): string {
  return join(PACKAGE_ROOT, ...parts);
}
