/**
 * Runs a step exactly once per work folder even when several processes (worker threads, queue
 * workers on other machines sharing the storage) reach it at the same time: the first to create
 * `LOCK` (exclusive create) runs it and writes `DONE`; the others wait for `DONE`. A lock left by
 * a dead process on this host is taken over, so a killed run resumes. The step must be
 * deterministic and write atomically, so a takeover that repeats it writes the same bytes.
 */
import { hostname } from 'node:os';
import { join } from 'node:path';
import { mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { writeFileAtomic } from '../pipeline/io/atomic.ts';

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function lockIsStale(lock: string): Promise<boolean> {
  try {
    const [host, pid] = (await readFile(lock, 'utf8')).split(' ');
    return host === hostname() && !processAlive(Number(pid));
  } catch {
    return false;
  }
}

export async function runOnce(dir: string, step: () => Promise<void>, pollMs = 50): Promise<void> {
  const done = join(dir, 'DONE');
  const lock = join(dir, 'LOCK');
  await mkdir(dir, { recursive: true });
  for (;;) {
    if (await exists(done)) return;
    let handle;
    try {
      handle = await open(lock, 'wx');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      if (await lockIsStale(lock)) await rm(lock, { force: true });
      else await sleep(pollMs);
      continue;
    }
    try {
      await handle.writeFile(`${hostname()} ${process.pid}`);
      await handle.close();
      if (!(await exists(done))) {
        await step();
        await writeFileAtomic(done, '');
      }
    } finally {
      await rm(lock, { force: true });
    }
    return;
  }
}
