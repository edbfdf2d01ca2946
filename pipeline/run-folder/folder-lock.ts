/**
 * One local run at a time per output folder: `<output>/run.lock` holds the host and pid of the
 * run writing there. A lock whose process is gone (killed run) is taken over; a live one stops
 * the second run before it touches anything. (Queue runs use many processes by design and rely
 * on their deterministic job ids instead.)
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { mkdir, open, readFile, rm } from 'node:fs/promises';
import { RefineryError } from '../errors.ts';

/** A process of this host with that pid exists (EPERM: it does, another user's). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Errors that mean "this folder cannot be written", told to the user as such. */
const NOT_WRITABLE: Record<string, string> = { EACCES: 'permission denied', EPERM: 'operation not permitted', EROFS: 'read-only file system', ENOTDIR: 'a part of the path is a file', ENOSPC: 'no space left on the device' };

/** Refuses an output folder whose run.lock a live process holds (a local run): `submit` does not queue a run there. */
export async function refuseLocked(out: string): Promise<void> {
  const held = (await readFile(join(out, 'run.lock'), 'utf8').catch(() => '')).trim();
  if (!held) return;
  const [host, pid] = held.split(' ');
  if (host === hostname() && !alive(Number(pid))) return;
  throw new RefineryError(`${out} is in use by a local refinery run (${host} pid ${pid}); wait for it to end, or stop it, before submitting a queue run there`);
}

/**
 * `<out>/run.lock`, naming this host and process (and `tag`, a queue run's finishing job: another
 * attempt of the same job takes over a lock its killed predecessor left, on any host).
 */
export async function lockOutput(out: string, tag?: string): Promise<() => Promise<void>> {
  try {
    return await takeLock(out, tag);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    if (code in NOT_WRITABLE) throw new RefineryError(`cannot write to the output folder ${out}: ${NOT_WRITABLE[code]}; choose a folder you can write to`);
    throw e;
  }
}

async function takeLock(out: string, tag?: string): Promise<() => Promise<void>> {
  await mkdir(out, { recursive: true });
  const path = join(out, 'run.lock');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(path, 'wx');
      await fh.writeFile(`${hostname()} ${process.pid}${tag ? ` ${tag}` : ''}\n`);
      await fh.close();
      return () => rm(path, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const [host, pid, heldTag] = (await readFile(path, 'utf8').catch(() => '')).trim().split(' ');
      if (!(tag && heldTag === tag) && (host !== hostname() || alive(Number(pid)))) {
        throw new RefineryError(`${out} is in use by another refinery run (${host} pid ${pid}); wait for it, or delete ${path} if that run is gone`);
      }
      await rm(path, { force: true });
    }
  }
  throw new RefineryError(`cannot lock ${out}`);
}
