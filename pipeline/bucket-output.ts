/**
 * Outputs on S3-compatible object storage (`output: s3://bucket/prefix`). A run works in a
 * staging folder, which is the run's output folder as far as every task is concerned (renames,
 * resume markers, `_work/`, run.lock; `work_dir`, shared by queue workers), and the bucket holds
 * what it publishes:
 *
 * - when the run is prepared (output-folder.ts), the bucket's `run.json` decides as a local one
 *   does, and a prefix whose run.lock another run holds is refused;
 * - `refinery run`, and the queue worker that publishes, hold `run.lock` in the bucket;
 * - when the run has finished (and its report is written), every output file but `_work/` is
 *   uploaded, each object visible only once complete (one PUT, or a multipart upload completed at
 *   the end), `stats.json` last: a prefix with the run's stats.json holds all of its outputs;
 * - an object already in the bucket with the file's size and ETag is not uploaded again, so a
 *   publish cut short resumes where it stopped.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunConfig } from './config.ts';
import { RefineryError } from './errors.ts';
import { alive } from './output-lock.ts';
import { RUN_FILES, RUN_FOLDERS } from './output-folder.ts';

/** What a run publishes (and --force deletes from a bucket): its output folder's names but `_work`. */
const PUBLISHED_FOLDERS = RUN_FOLDERS.filter((f) => f !== '_work');
const isPublished = (key: string) => RUN_FILES.includes(key) || PUBLISHED_FOLDERS.includes(key.split('/')[0]!);

const s3 = () => import('./io/s3.ts');

/** `s3://bucket/prefix/name` (the prefix given with or without its final "/"). */
export function objectUrl(prefixUrl: string, name: string): string {
  return `${prefixUrl.replace(/\/+$/, '')}/${name}`;
}

/**
 * The staging folder of a run whose output is `url` when the pipeline names none (`work_dir`):
 * under the temporary folder, one per bucket and prefix, so that the same run resumes there.
 */
export function defaultStagingFolder(url: string): string {
  const parts = url.slice('s3://'.length).replace(/\/+$/, '').split('/').filter(Boolean);
  // Readable, never leaving the folder (no "." or ".." part), and one per URL (the hash tells apart URLs that read the same).
  const readable = parts.map((p) => (p === '.' || p === '..' ? '_' : p.replace(/[^A-Za-z0-9._-]/g, '_')));
  readable[readable.length - 1] += `-${createHash('sha256').update(url.replace(/\/+$/, '')).digest('hex').slice(0, 8)}`;
  return join(tmpdir(), 'refinery-staging', ...readable);
}

/** What a bucket prefix holds of a run's outputs: its run.json (text, or null) and the run names at its top. */
export async function bucketOutputState(url: string): Promise<{ runJson: string | null; present: string[] }> {
  const { readSmallObject, listTopNames } = await s3();
  const runJson = await readSmallObject(objectUrl(url, 'run.json'));
  // A run.lock alone (a run that stopped before it wrote run.json) is not another tool's output.
  const present = (await listTopNames(url)).filter(isPublished).sort();
  return { runJson, present };
}

/**
 * Deletes every object a run writes under the prefix (--force on a run of ours), stats.json first
 * (so that a delete cut short never leaves a prefix that looks complete); not run.lock, which this
 * run holds.
 */
export async function clearBucketOutput(url: string): Promise<void> {
  const { listOutputObjects, deleteOutputObjects } = await s3();
  const keys = [...(await listOutputObjects(url)).keys()].filter(isPublished);
  if (keys.includes('stats.json')) await deleteOutputObjects(url, ['stats.json']);
  await deleteOutputObjects(url, keys.filter((k) => k !== 'stats.json').sort());
}

/** Who holds `<url>/run.lock` ("host pid"), or null. */
export async function bucketLockHolder(url: string): Promise<string | null> {
  return ((await (await s3()).readSmallObject(objectUrl(url, 'run.lock'))) ?? '').trim() || null;
}

/** This process as run.lock names it. */
export const lockOwner = (): string => `${hostname()} ${process.pid}`;

export async function writeBucketRunRecord(url: string, text: string): Promise<void> {
  await (await s3()).writeSmallObject(objectUrl(url, 'run.json'), text);
}

/**
 * `<url>/run.lock`, naming this host and process (a local run; the queue worker while it
 * publishes). A lock left by a killed process of this host is taken over; one of another host, or
 * of a live process, stops this one with the object to delete.
 */
export async function lockBucket(url: string): Promise<() => Promise<void>> {
  const { readSmallObject, writeSmallObject, deleteObject } = await s3();
  const lock = objectUrl(url, 'run.lock');
  const mine = `${lockOwner()}\n`;
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
    const [host, pid] = held.trim().split(' ');
    if (host !== hostname() || alive(Number(pid))) {
      throw new RefineryError(`${url} is in use by another refinery run (${host} pid ${pid}); wait for it, or delete ${lock} if that run is gone`);
    }
    await deleteObject(lock);
  }
  throw new RefineryError(`cannot lock ${url}`);
}

/**
 * The ETags an object uploaded from this file by `uploadFile` can have: the MD5 of its bytes (one
 * PUT, and what some S3-compatible servers give any object), and for a multipart upload the MD5 of
 * its parts' MD5s, "-", and the number of parts (AWS, MinIO). Buckets that encrypt with KMS keys
 * give other ETags: then every file is uploaded again, which is safe.
 */
export async function possibleEtags(path: string, size: number, partBytes: number): Promise<string[]> {
  const whole = createHash('md5');
  const parts: Buffer[] = [];
  let part = createHash('md5');
  let inPart = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
    whole.update(chunk);
    if (size <= partBytes) continue;
    for (let at = 0; at < chunk.length; ) {
      const take = Math.min(chunk.length - at, partBytes - inPart);
      part.update(chunk.subarray(at, at + take));
      at += take;
      inPart += take;
      if (inPart === partBytes) {
        parts.push(part.digest());
        part = createHash('md5');
        inPart = 0;
      }
    }
  }
  const etags = [`"${whole.digest('hex')}"`];
  if (size > partBytes) {
    if (inPart > 0) parts.push(part.digest());
    etags.push(`"${createHash('md5').update(Buffer.concat(parts)).digest('hex')}-${parts.length}"`);
  }
  return etags;
}

/** Files of the staging folder to publish, as paths relative to it (the bucket's keys below the prefix). */
async function publishedFilesOf(staging: string): Promise<string[]> {
  const files: string[] = [];
  for (const folder of PUBLISHED_FOLDERS) {
    const entries = await readdir(join(staging, folder), { recursive: true, withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isFile() && !/\.tmp$/.test(e.name)) files.push(join(e.parentPath, e.name).slice(staging.length + 1));
  }
  files.sort();
  // stats.json last: the run's completion mark.
  for (const f of [...RUN_FILES.filter((f) => f !== 'stats.json'), 'stats.json']) if (await stat(join(staging, f)).catch(() => null)) files.push(f);
  return files;
}

/** Uploads at once (each a PUT or a multipart upload of up to four parts in flight). */
const UPLOADS_AT_ONCE = 4;

/**
 * Publishes a finished run's outputs from its staging folder (config.output) to its bucket
 * (config.publishTo); returns how many files were uploaded and how many were there already.
 */
export async function publishRun(config: RunConfig): Promise<{ uploaded: number; unchanged: number }> {
  const url = config.publishTo;
  if (!url) return { uploaded: 0, unchanged: 0 };
  const { listOutputObjects, uploadFile, deleteObject, PART_BYTES } = await s3();
  const there = await listOutputObjects(url);
  const all = await publishedFilesOf(config.output);
  // What differs from the bucket, before anything is sent.
  const todo: string[] = [];
  for (const rel of all) {
    const path = join(config.output, rel);
    const { size } = await stat(path);
    const object = there.get(rel);
    if (!object || object.size !== size || !(await possibleEtags(path, size, PART_BYTES)).includes(object.etag)) todo.push(rel);
  }
  // A prefix with stats.json is complete: while its other objects change, it has none, and gets it back last.
  if (todo.length > 0 && all.includes('stats.json')) {
    if (there.has('stats.json')) await deleteObject(objectUrl(url, 'stats.json'));
    if (!todo.includes('stats.json')) todo.push('stats.json');
  }
  const send = (rel: string) => uploadFile(join(config.output, rel), objectUrl(url, rel));
  const queue = todo.filter((f) => f !== 'stats.json');
  let next = 0;
  // Every upload in flight ends (done or failed) before this returns or throws.
  const results = await Promise.allSettled(
    Array.from({ length: UPLOADS_AT_ONCE }, async () => {
      while (next < queue.length) await send(queue[next++]!);
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  if (todo.includes('stats.json')) await send('stats.json');
  return { uploaded: todo.length, unchanged: all.length - todo.length };
}
