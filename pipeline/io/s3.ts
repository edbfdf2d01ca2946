/**
 * Inputs on S3-compatible object storage (`s3://bucket/key`), through the AWS SDK v3. Imported
 * only by storage.ts, the first time an s3:// path is met. The endpoint, region and credentials
 * come from the SDK's usual sources: AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3), AWS_REGION,
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws/config. With a custom
 * endpoint (MinIO, Ceph, R2, ...) buckets are addressed path-style (`<endpoint>/<bucket>/<key>`),
 * which every S3-compatible server accepts.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import picomatch from 'picomatch';
import { AbortMultipartUploadCommand, DeleteObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { InputError, RefineryError } from '../errors.ts';
import { DATA_FILES, hasGlob, type InputInfo } from './input-names.ts';

// The SDK warns, once per thread, that its releases after January 2027 need Node 22; a run's
// output is no place for that notice (package-lock.json pins the version this code was tested with).
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * Bytes per ranged GET (REFINERY_S3_RANGE_BYTES, default 64 MiB): a connection dropped while a
 * slow reader holds the stream costs a retry of the rest of one range, not of the object.
 */
const RANGE_BYTES = Number(process.env.REFINERY_S3_RANGE_BYTES) > 0 ? Math.floor(Number(process.env.REFINERY_S3_RANGE_BYTES)) : 64 * 1024 * 1024;
/** Attempts per range when the connection drops in the middle of a body (the SDK retries failed requests itself). */
const BODY_ATTEMPTS = 3;

let shared: S3Client | undefined;

function client(): S3Client {
  shared ??= new S3Client({
    forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL),
  });
  return shared;
}

export interface S3Location {
  bucket: string;
  key: string;
}

export function parseS3Url(url: string): S3Location {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(url);
  if (!m) throw new InputError(url, {}, 'not an s3:// URL of the form s3://bucket/key');
  return { bucket: m[1]!, key: m[2]! };
}

/** Sizes and ETags seen by listings in this process, so that planning a run of many objects sends one request per 1,000 of them, not one per object. */
const listed = new Map<string, InputInfo>();

/** The SDK's error as a sentence that names the URL and what to check (an InputError for inputs, a RefineryError for outputs). */
function storageError(url: string, doing: string, e: unknown, side: 'input' | 'output' = 'input'): RefineryError {
  const name = e instanceof Error ? e.name : 'Error';
  const message = e instanceof Error ? e.message : String(e);
  const status = e instanceof S3ServiceException ? ` (HTTP ${e.$metadata.httpStatusCode ?? '?'})` : '';
  const hint = /credential/i.test(name + message)
    ? '; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE'
    : /region/i.test(message)
      ? '; set AWS_REGION'
      : /AccessDenied|Forbidden|\b403\b/.test(name + message + status)
        ? `; check that these credentials may ${side === 'input' ? 'list and read the bucket (s3:ListBucket, s3:GetObject)' : 'list, read, write and delete in the bucket (s3:ListBucket, s3:GetObject, s3:PutObject, s3:DeleteObject)'}`
      : /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(message)
        ? `; is the endpoint right (AWS_ENDPOINT_URL=${process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL ?? 'unset: AWS itself'})?`
        : '';
  const problem = `cannot ${doing}: ${name}${status}: ${message}${hint}`;
  return side === 'input' ? new InputError(url, {}, problem) : new RefineryError(`${url}: ${problem}`);
}

const isNotFound = (e: unknown) => e instanceof S3ServiceException && (e.$metadata.httpStatusCode === 404 || e.name === 'NotFound' || e.name === 'NoSuchKey');

export async function statObject(url: string): Promise<InputInfo | null> {
  const cached = listed.get(url);
  if (cached) return cached;
  const { bucket, key } = parseS3Url(url);
  if (key !== '' && !key.endsWith('/')) {
    try {
      const head = await client().send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      return { kind: 'file', size: head.ContentLength ?? 0, etag: head.ETag ?? '' };
    } catch (e) {
      if (!isNotFound(e)) throw storageError(url, 'read the object', e);
    }
  }
  // No object of that name: a prefix with objects under it is a folder.
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  try {
    const page = await client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, MaxKeys: 1 }));
    return (page.KeyCount ?? 0) > 0 ? { kind: 'folder', size: 0 } : null;
  } catch (e) {
    throw storageError(url, 'list the bucket', e);
  }
}

/** Every object under `prefix` (keys ending in "/" are folder markers, not files). */
async function* objectsUnder(bucket: string, prefix: string, url: string, side: 'input' | 'output' = 'input'): AsyncGenerator<{ key: string; size: number; etag: string }> {
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    } catch (e) {
      throw storageError(url, 'list the bucket', e, side);
    }
    for (const o of page.Contents ?? []) if (o.Key && !o.Key.endsWith('/')) yield { key: o.Key, size: o.Size ?? 0, etag: o.ETag ?? '' };
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
}

/**
 * A glob's matches, or a folder's data files, as s3:// URLs. A glob lists the keys under its
 * fixed leading folders and matches each key with picomatch, the matcher tinyglobby uses for
 * local globs: `*` stays within one folder, `**` crosses folders, names starting with a dot are
 * matched only by a pattern that names the dot.
 */
export async function listObjects(pattern: string, as: 'glob' | 'folder'): Promise<string[]> {
  const { bucket, key } = parseS3Url(pattern);
  let prefix: string;
  let matches: (key: string) => boolean;
  if (as === 'glob') {
    const parts = key.split('/');
    const firstDynamic = parts.findIndex(hasGlob);
    prefix = parts.slice(0, firstDynamic).map((p) => `${p}/`).join('');
    const isMatch = picomatch(key);
    matches = (k) => isMatch(k);
  } else {
    prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
    const isData = picomatch(DATA_FILES);
    const inWork = picomatch('**/_work/**');
    matches = (k) => isData(k.slice(prefix.length)) && !inWork(k.slice(prefix.length));
  }
  const out: string[] = [];
  for await (const o of objectsUnder(bucket, prefix, pattern)) {
    if (!matches(o.key)) continue;
    const url = `s3://${bucket}/${o.key}`;
    listed.set(url, { kind: 'file', size: o.size, etag: o.etag });
    out.push(url);
  }
  return out;
}

/**
 * The object's bytes, fetched in ranges of RANGE_BYTES (each GET conditional on the ETag of the
 * first, so every range comes from the same version of the object); a body cut off in the
 * middle is requested again from the byte it stopped at.
 */
export async function openObject(url: string): Promise<Readable> {
  const { bucket, key } = parseS3Url(url);
  const get = async (start: number, end: number, etag: string | undefined) => {
    try {
      return await client().send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end}`, IfMatch: etag }));
    } catch (e) {
      if (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 416 && start === 0) return null; // an empty object
      throw storageError(url, etag ? `read bytes ${start}-${end} (the object changed while it was read?)` : 'read the object', e);
    }
  };
  const first = await get(0, RANGE_BYTES - 1, undefined);
  async function* bytes(): AsyncGenerator<Uint8Array> {
    if (!first) return;
    if (first.ContentRange === undefined) {
      // A server that ignores Range sends the whole object at once.
      yield* first.Body as AsyncIterable<Uint8Array>;
      return;
    }
    const etag = first.ETag;
    const total = Number(/\/(\d+)$/.exec(first.ContentRange)?.[1] ?? first.ContentLength ?? 0);
    let response: typeof first | null = first;
    for (let start = 0; start < total; start += RANGE_BYTES) {
      const end = Math.min(start + RANGE_BYTES, total) - 1;
      let at = start;
      for (let attempt = 1; at <= end; attempt++) {
        response ??= await get(at, end, etag);
        try {
          for await (const chunk of response!.Body as AsyncIterable<Uint8Array>) {
            at += chunk.byteLength;
            yield chunk;
          }
          if (at <= end) throw new Error(`the body ended at byte ${at} of ${end + 1}`);
        } catch (e) {
          if (attempt >= BODY_ATTEMPTS) throw storageError(url, `read on at byte ${at}`, e);
        } finally {
          response = null;
        }
      }
    }
  }
  return Readable.from(bytes(), { objectMode: false });
}

/** Downloads the object to a file of its own in the temporary folder (TMPDIR); `done` deletes it. */
export async function downloadObject(url: string): Promise<{ path: string; done: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-s3-'));
  const path = join(dir, basename(parseS3Url(url).key) || 'object');
  const done = () => rm(dir, { recursive: true, force: true });
  try {
    await pipeline(await openObject(url), createWriteStream(path));
  } catch (e) {
    await done();
    throw e instanceof InputError ? e : storageError(url, 'download the object', e);
  }
  return { path, done };
}

// ---- a run's storage (pipeline/run-folder/bucket.ts) ----

/** The objects under an s3:// prefix (a folder: the URL with a final "/"), keyed by their key relative to it. */
export async function listOutputObjects(prefixUrl: string): Promise<Map<string, { size: number; etag: string }>> {
  const { bucket, key } = parseS3Url(prefixUrl);
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  const out = new Map<string, { size: number; etag: string }>();
  for await (const o of objectsUnder(bucket, prefix, prefixUrl, 'output')) out.set(o.key.slice(prefix.length), { size: o.size, etag: o.etag });
  return out;
}

/** The names at the top of an s3:// prefix: its objects' and its sub-prefixes' (one listing with a delimiter, however many objects lie below). */
export async function listTopNames(prefixUrl: string): Promise<string[]> {
  const { bucket, key } = parseS3Url(prefixUrl);
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  const names: string[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
    } catch (e) {
      throw storageError(prefixUrl, 'list the bucket', e, 'output');
    }
    for (const p of page.CommonPrefixes ?? []) if (p.Prefix) names.push(p.Prefix.slice(prefix.length).replace(/\/$/, ''));
    for (const o of page.Contents ?? []) if (o.Key) names.push(o.Key.slice(prefix.length));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return names;
}

/** A small object's text (run.json, run.lock), or null when there is none. */
export async function readSmallObject(url: string): Promise<string | null> {
  const { bucket, key } = parseS3Url(url);
  try {
    const r = await client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return (await r.Body?.transformToString('utf8')) ?? '';
  } catch (e) {
    if (isNotFound(e)) return null;
    throw storageError(url, 'read the object', e, 'output');
  }
}

/**
 * Writes a small object in one PUT (visible whole or not at all). `create`: only if no object of
 * that key exists (If-None-Match: *, which S3 and MinIO honour atomically); false when one did.
 */
export async function writeSmallObject(url: string, body: string, create = false): Promise<boolean> {
  const { bucket, key } = parseS3Url(url);
  try {
    await client().send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ...(create ? { IfNoneMatch: '*' } : {}) }));
    return true;
  } catch (e) {
    if (create && e instanceof S3ServiceException && (e.$metadata.httpStatusCode === 412 || e.$metadata.httpStatusCode === 409)) return false;
    throw storageError(url, 'write the object', e, 'output');
  }
}

/** Deletes one object (nothing happens when there is none). */
export async function deleteObject(url: string): Promise<void> {
  const { bucket, key } = parseS3Url(url);
  try {
    await client().send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
  } catch (e) {
    throw storageError(url, 'delete the object', e, 'output');
  }
}

/** Deletes the objects of these keys (relative to the prefix URL), 1,000 per request. */
export async function deleteOutputObjects(prefixUrl: string, keys: string[]): Promise<void> {
  const { bucket, key } = parseS3Url(prefixUrl);
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  for (let i = 0; i < keys.length; i += 1000) {
    const batch = keys.slice(i, i + 1000);
    try {
      const r = await client().send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((k) => ({ Key: prefix + k })), Quiet: true } }));
      const failed = r.Errors?.[0];
      if (failed) throw new Error(`${failed.Key}: ${failed.Code ?? ''} ${failed.Message ?? ''}`.trim());
    } catch (e) {
      throw storageError(prefixUrl, `delete ${batch.length} objects`, e, 'output');
    }
  }
}

/**
 * Part size of uploads (REFINERY_S3_PART_BYTES, default 16 MiB; S3's minimum is 5 MiB): a file
 * up to this size is one PUT, a larger one a multipart upload. Both make the object visible only
 * when all of it has arrived: a multipart upload exists as an object only after its
 * CompleteMultipartUpload, and a failed one is aborted, leaving nothing.
 */
export const PART_BYTES = Number(process.env.REFINERY_S3_PART_BYTES) >= 5 * 1024 * 1024 ? Math.floor(Number(process.env.REFINERY_S3_PART_BYTES)) : 16 * 1024 * 1024;

/** Uploads a local file to `url`, in parts of PART_BYTES, four at a time. */
export async function uploadFile(path: string, url: string): Promise<void> {
  const { bucket, key } = parseS3Url(url);
  try {
    await new Upload({ client: client(), params: { Bucket: bucket, Key: key, Body: createReadStream(path) }, partSize: PART_BYTES, queueSize: 4, leavePartsOnError: false }).done();
  } catch (e) {
    throw storageError(url, `upload ${path} (the task is run again: nothing it wrote counts until its marker is written)`, e, 'output');
  }
}

/** Downloads the object to `path` in one GET (through a temporary name, renamed when whole); false when there is no such object. */
export async function downloadTo(url: string, path: string): Promise<boolean> {
  const { bucket, key } = parseS3Url(url);
  let r;
  try {
    r = await client().send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  } catch (e) {
    if (isNotFound(e)) return false;
    throw storageError(url, 'read the object', e, 'output');
  }
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2, 8)}.tmp`;
  try {
    await pipeline(r.Body as Readable, createWriteStream(tmp));
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw storageError(url, 'download the object', e, 'output');
  }
  return true;
}

/** `length` bytes of the object from byte `start` (fewer at its end), in one ranged GET. */
export async function readObjectRange(url: string, start: number, length: number): Promise<Uint8Array> {
  if (length <= 0) return new Uint8Array(0);
  const { bucket, key } = parseS3Url(url);
  try {
    const r = await client().send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${start + length - 1}` }));
    const bytes = (await r.Body?.transformToByteArray()) ?? new Uint8Array(0);
    // A server that ignores Range sends the whole object (200, not 206).
    return r.$metadata.httpStatusCode === 206 ? bytes : bytes.subarray(start, start + length);
  } catch (e) {
    if (e instanceof S3ServiceException && e.$metadata.httpStatusCode === 416) return new Uint8Array(0);
    throw storageError(url, `read bytes ${start}-${start + length - 1}`, e, 'output');
  }
}

/**
 * Aborts the multipart uploads begun under the prefix and never completed (a task killed while it
 * uploaded): they were never objects, but their parts are stored and billed until aborted. A store
 * that cannot list uploads (some S3-compatible servers) is left to its lifecycle rules.
 */
export async function abortUploadsUnder(prefixUrl: string): Promise<number> {
  const { bucket, key } = parseS3Url(prefixUrl);
  const prefix = key === '' || key.endsWith('/') ? key : `${key}/`;
  let aborted = 0;
  let keyMarker: string | undefined;
  let uploadMarker: string | undefined;
  for (;;) {
    let page;
    try {
      page = await client().send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadMarker }));
    } catch {
      return aborted;
    }
    for (const u of page.Uploads ?? []) {
      if (!u.Key || !u.UploadId) continue;
      try {
        await client().send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
        aborted++;
      } catch (e) {
        if (!isNotFound(e)) throw storageError(`s3://${bucket}/${u.Key}`, 'abort an unfinished upload', e, 'output');
      }
    }
    if (!page.IsTruncated) return aborted;
    keyMarker = page.NextKeyMarker;
    uploadMarker = page.NextUploadIdMarker;
  }
}
