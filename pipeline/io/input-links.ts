/**
 * Input paths and the files they lead to. Two paths may lead to one file: a symbolic link beside
 * its target, a hard link, a folder reached a second time through a link that points back up
 * (a glob follows such a loop once before it stops). Read under each path, the file's documents
 * would be in the run twice, under two ids. Objects (s3://) have no links: a key is its object.
 */
import { lstat, readlink, stat } from 'node:fs/promises';
import { isS3Url } from './storage.ts';

/** Paths that lead to a file another path of the list leads to, each with the path kept. */
export interface LinkedPaths {
  kept: string[];
  duplicates: { path: string; sameAs: string }[];
}

/** Keeps the first path (in the given order) to each file; the later ones are duplicates. */
export async function oncePerFile(paths: readonly string[]): Promise<LinkedPaths> {
  const firstPathOf = new Map<string, string>();
  const out: LinkedPaths = { kept: [], duplicates: [] };
  for (const path of paths) {
    const st = isS3Url(path) ? null : await stat(path, { bigint: true }).catch(() => null);
    const key = st ? `${st.dev}:${st.ino}` : `path:${path}`;
    const sameAs = firstPathOf.get(key);
    if (sameAs === undefined) {
      firstPathOf.set(key, path);
      out.kept.push(path);
    } else out.duplicates.push({ path, sameAs });
  }
  return out;
}

/** Why a local path that cannot be opened is a broken symbolic link (to nothing, or round a loop); null when it is not a link. */
export async function brokenLink(path: string): Promise<string | null> {
  if (isS3Url(path)) return null;
  const own = await lstat(path).catch(() => null);
  if (!own?.isSymbolicLink()) return null;
  const error = await stat(path).then(
    () => null,
    (e: NodeJS.ErrnoException) => e.code,
  );
  const target = await readlink(path).catch(() => '?');
  return error === 'ELOOP' ? `a symbolic link (to ${target}) that leads round in a loop` : `a symbolic link to ${target}, which does not exist`;
}
