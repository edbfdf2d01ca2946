/**
 * A run's storage in a folder: local, or a shared filesystem every worker mounts at the same
 * path. Tasks work in the folder itself (their files are renamed into place when whole), so a task
 * space here only looks at what is there and commits nothing.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { isAbsolute, join, relative } from 'node:path';
import type { RunConfig } from '../config.ts';
import { writeFileAtomic } from '../io/atomic.ts';
import type { RunPlan } from '../engine/run-plan.ts';
import { folderFiles } from './files.ts';
import { lockOutput } from './folder-lock.ts';
import { checkOutputFolder, prepareFolder, removeStaleTemporaries, type QueueClaim } from './folder-record.ts';
import type { RunStore, TaskSpace } from './store.ts';

export class FolderStore implements RunStore {
  readonly location: string;

  constructor(private readonly config: RunConfig) {
    this.location = config.output;
  }

  where(rel: string): string {
    return join(this.location, rel);
  }

  shown(rel: string): string {
    const r = relative(process.cwd(), this.where(rel));
    return !r ? '.' : r.startsWith('..') || isAbsolute(r) ? this.where(rel) : r;
  }

  async read(rel: string): Promise<string | null> {
    return readFile(this.where(rel), 'utf8').catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    });
  }

  async write(rel: string, text: string): Promise<void> {
    await writeFileAtomic(this.where(rel), text);
  }

  async list(rel: string): Promise<string[]> {
    return folderFiles.list(this.where(rel));
  }

  check(): Promise<void> {
    return checkOutputFolder(this.config);
  }

  prepare(plan: RunPlan, force: boolean, claim?: QueueClaim): Promise<void> {
    return prepareFolder(plan, force, claim);
  }

  lock(tag?: string): Promise<() => Promise<void>> {
    return lockOutput(this.location, tag);
  }

  async dropPhaseData(): Promise<void> {
    await removeStaleTemporaries(this.location);
    for (const name of await readdir(join(this.location, '_work')).catch(() => [] as string[])) {
      if (name !== 'tasks') await rm(join(this.location, '_work', name), { recursive: true, force: true });
    }
  }

  async openTask(): Promise<TaskSpace> {
    return { dir: this.location, ...folderFiles, commit: async () => ({ files: 0, bytes: 0 }), close: async () => {} };
  }
}
