/**
 * A run's storage under an s3:// prefix. Every task works in a scratch folder of its worker
 * (`work_dir`, default the system's temporary folder), fetches the run's files it reads (whole
 * objects, or byte ranges), and when it ends uploads what it wrote, each object in one PUT or a
 * multipart upload completed only when whole; the engine writes the task's marker after that. A
 * worker needs nothing but the bucket and Redis.
 *
 * Ownership is a folder's: the prefix's run.json decides (another tool's prefix is refused, another
 * run of ours unless --force, which deletes only the names a run writes, stats.json first), and
 * `refinery run` holds `<prefix>/run.lock`, created with If-None-Match.
 */
import { mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { RunConfig } from '../config.ts';
import { RefineryError } from '../errors.ts';
import { stableJson } from '../io/atomic.ts';
import { entryFolder, readLocalRange } from './files.ts';
import { alive } from './folder-lock.ts';
import { checkBucketOverlap, OUTPUT_NAMES, parseRunRecord, refuseClaimed, refuseOutput, runRecordOf, type QueueClaim } from './folder-record.ts';
import type { RunPlan } from '../engine/run-plan.ts';
import type { RunStore, StoredIo, TaskSpace } from './store.ts';

const s3 = () => import('../io/s3.ts');

/** `s3://bucket/prefix/name` (the prefix given with or without its final "/"). */
export function objectUrl(prefixUrl: string, name: string): string {
  return `${prefixUrl.replace(/\/+$/, '')}/${name}`;
}

const isRunName = (key: string) => OUTPUT_NAMES.includes(key.split('/')[0]!);

/** This process as run.lock names it. */
export const lockOwner = (): string => `${hostname()} ${process.pid}`;

/** Uploads at once when a task commits (each a PUT, or a multipart upload of up to four parts in flight). */
const UPLOADS_AT_ONCE = 8;

export class BucketStore implements RunStore {
  readonly location: string;
  private readonly scratchRoot: string;

  /** Reading a finished run needs only its URL (and `scratch`); `inputs` serve the overlap check of a run being prepared. */
  constructor(private readonly config: Pick<RunConfig, 'output' | 'scratch' | 'inputs' | 'inputsFromCommandLine'>) {
    this.location = config.output;
    this.scratchRoot = config.scratch ?? join(tmpdir(), 'refinery-tasks');
  }

  where(rel: string): string {
    return rel ? objectUrl(this.location, rel) : this.location;
  }

  shown(rel: string): string {
    return this.where(rel);
  }

  async read(rel: string): Promise<string | null> {
    return (await s3()).readSmallObject(this.where(rel));
  }

  async write(rel: string, text: string): Promise<void> {
    await (await s3()).writeSmallObject(this.where(rel), text);
  }

  async list(rel: string): Promise<string[]> {
    return (await (await s3()).listTopNames(this.where(rel))).sort();
  }

  async check(): Promise<void> {
    for (const [i, input] of this.config.inputs.entries()) {
      const key = this.config.inputsFromCommandLine ? `--input[${i}]` : `inputs[${i}]`;
      if (input.pattern.startsWith('s3://')) checkBucketOverlap(this.location, input.pattern, key);
    }
  }

  async prepare(plan: RunPlan, force: boolean, claim?: QueueClaim): Promise<void> {
    const url = this.location;
    const { readSmallObject, listTopNames, writeSmallObject } = await s3();
    const holder = ((await readSmallObject(this.where('run.lock'))) ?? '').trim() || null;
    const [host, pid] = (holder ?? '').split(' ');
    // A lock of a dead process of this host is taken over by lock(), as a folder's is.
    const stale = host === hostname() && !alive(Number(pid));
    if (holder !== null && holder !== lockOwner() && !stale) throw new RefineryError(`${url} is in use by a refinery run (${holder}, in ${this.where('run.lock')}); wait for it, or delete that object if the run is gone`);
    const record = await runRecordOf(plan, claim);
    const previous = parseRunRecord(await readSmallObject(this.where('run.json')));
    // A run.lock alone (a run that stopped before it wrote run.json) is not another tool's output.
    const top = await listTopNames(url);
    refuseClaimed(url, previous, claim, top.includes('stats.json'));
    const present = top.filter(isRunName).sort();
    refuseOutput(url, 'prefix', previous, present, record.identity, force);
    if (previous.kind === 'ours' && force) await this.clear();
    await writeSmallObject(this.where('run.json'), stableJson(record));
  }

  /**
   * Deletes every object a run writes under the prefix, stats.json first (so that a delete cut
   * short never leaves a prefix that looks complete); not run.lock, which this run holds.
   */
  private async clear(): Promise<void> {
    const { listOutputObjects, deleteOutputObjects } = await s3();
    const keys = [...(await listOutputObjects(this.location)).keys()].filter(isRunName);
    if (keys.includes('stats.json')) await deleteOutputObjects(this.location, ['stats.json']);
    await deleteOutputObjects(this.location, keys.filter((k) => k !== 'stats.json').sort());
  }

  /**
   * `<prefix>/run.lock`, naming this host and process. A lock left by a killed process of this
   * host is taken over; one of another host, or of a live process, stops this one with the object
   * to delete.
   */
  async lock(tag?: string): Promise<() => Promise<void>> {
    const { readSmallObject, writeSmallObject, deleteObject } = await s3();
    const lock = this.where('run.lock');
    const mine = `${lockOwner()}${tag ? ` ${tag}` : ''}\n`;
    // Released whatever happens to the run; a lock that cannot be deleted is a warning, not the run's failure.
    const release = async () => {
      try {
        await deleteObject(lock);
      } catch (e) {
        process.stderr.write(`refinery: warning: could not delete ${lock} (${(e as Error).message}); delete it before the next run\n`);
      }
    };
    for (let attempt = 0; attempt < 3; attempt++) {
      const held = await readSmallObject(lock);
      if (held === null) {
        // If-None-Match makes the create atomic where the store honours it; where it does not, the
        // later of two writers wins, and reading the lock back tells the other.
        if ((await writeSmallObject(lock, mine, true)) && (await readSmallObject(lock)) === mine) return release;
        continue;
      }
      const [host, pid, heldTag] = held.trim().split(' ');
      if (!(tag && heldTag === tag) && (host !== hostname() || alive(Number(pid)))) {
        throw new RefineryError(`${this.location} is in use by another refinery run (${host} pid ${pid}); wait for it, or delete ${lock} if that run is gone`);
      }
      await deleteObject(lock);
    }
    throw new RefineryError(`cannot lock ${this.location}`);
  }

  async dropPhaseData(): Promise<void> {
    const { listOutputObjects, deleteOutputObjects, abortUploadsUnder } = await s3();
    const work = this.where('_work');
    const keys = [...(await listOutputObjects(work)).keys()].filter((k) => !k.startsWith('tasks/'));
    await deleteOutputObjects(work, keys.sort());
    // Parts of uploads that a killed task began and never completed (never objects, but billed).
    await abortUploadsUnder(this.location);
  }

  private swept = false;

  async openTask(): Promise<TaskSpace> {
    await mkdir(this.scratchRoot, { recursive: true });
    if (!this.swept) {
      this.swept = true;
      await sweepScratch(this.scratchRoot);
    }
    return new BucketTaskSpace(this, await mkdtemp(join(this.scratchRoot, `task-${hostname()}-${process.pid}-`)));
  }
}

/**
 * Deletes the scratch folders that tasks of dead processes of this host left (a worker killed, or a
 * thread ended, before its task closed its space): their names carry host and pid.
 */
async function sweepScratch(root: string): Promise<void> {
  for (const name of await readdir(root).catch(() => [] as string[])) {
    const m = /^task-(.+)-(\d+)-[^-]+$/.exec(name);
    if (m && m[1] === hostname() && Number(m[2]) !== process.pid && !alive(Number(m[2]))) await rm(join(root, name), { recursive: true, force: true });
  }
}

/** A task's scratch folder, mirroring the run's layout: the run's files it reads are fetched into it; what it writes is uploaded. */
class BucketTaskSpace implements TaskSpace {
  /** Files fetched from the bucket, with their modification time then: not uploaded back unless changed. */
  private readonly fetched = new Map<string, number>();
  /** Requests made for the task's reads (a whole object is a HEAD and a GET per range) and bytes fetched. */
  private gets = 0;
  private bytesIn = 0;

  constructor(
    private readonly store: BucketStore,
    readonly dir: string,
  ) {}

  /** The run-relative key of a path in this folder, or null for a path outside it. */
  private keyOf(path: string): string | null {
    const rel = relative(this.dir, path);
    return rel.startsWith('..') || isAbsolute(rel) ? null : rel.split(sep).join('/');
  }

  async need(path: string): Promise<boolean> {
    if (await stat(path).catch(() => null)) return true;
    const key = this.keyOf(path);
    if (key === null) return false;
    this.gets++;
    if (!(await (await s3()).downloadTo(this.store.where(key), path))) return false;
    const st = await stat(path);
    this.fetched.set(path, st.mtimeMs);
    this.bytesIn += st.size;
    return true;
  }

  async readRange(path: string, start: number, length: number): Promise<Uint8Array> {
    if (await stat(path).catch(() => null)) return readLocalRange(path, start, length);
    const key = this.keyOf(path);
    if (key === null) throw new RefineryError(`${path}: not a file of the run`);
    const bytes = await (await s3()).readObjectRange(this.store.where(key), start, length);
    this.gets++;
    this.bytesIn += bytes.byteLength;
    return bytes;
  }

  async list(path: string): Promise<string[]> {
    const key = this.keyOf(path);
    const here = await readdir(path).catch(() => [] as string[]);
    const there = key === null ? [] : await this.store.list(key);
    if (key !== null) this.gets++;
    return [...new Set([...here, ...there])].filter((n) => !/\.tmp$/.test(n)).sort();
  }

  async commit(): Promise<StoredIo> {
    const entries = await readdir(this.dir, { recursive: true, withFileTypes: true });
    const todo: { path: string; key: string; size: number }[] = [];
    for (const e of entries) {
      if (!e.isFile() || /\.tmp$/.test(e.name)) continue;
      const path = join(entryFolder(e), e.name);
      const st = await stat(path);
      if (this.fetched.get(path) === st.mtimeMs) continue;
      todo.push({ path, key: this.keyOf(path)!, size: st.size });
    }
    // stats.json is the run's completion mark: it goes last.
    todo.sort((a, b) => Number(a.key === 'stats.json') - Number(b.key === 'stats.json') || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    const { uploadFile } = await s3();
    const last = todo.length && todo[todo.length - 1]!.key === 'stats.json' ? todo.pop()! : null;
    let next = 0;
    // Every upload in flight ends (done or failed) before this returns or throws.
    const results = await Promise.allSettled(
      Array.from({ length: UPLOADS_AT_ONCE }, async () => {
        while (next < todo.length) {
          const f = todo[next++]!;
          await uploadFile(f.path, this.store.where(f.key));
        }
      }),
    );
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
    if (last) await uploadFile(last.path, this.store.where(last.key));
    const sent = [...todo, ...(last ? [last] : [])];
    return { files: sent.length, bytes: sent.reduce((a, f) => a + f.size, 0), gets: this.gets, bytes_in: this.bytesIn };
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}
