/**
 * Inputs on S3-compatible object storage (`s3://bucket/key`), through the AWS SDK v3. Imported
 * only by storage.ts, the first time an s3:// path is met. The endpoint, region and credentials
 * come from the SDK's usual sources: AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_S3), AWS_REGION,
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, AWS_PROFILE and ~/.aws/config. With a custom
 * endpoint (MinIO, Ceph, R2, ...) buckets are addressed path-style (`<endpoint>/<bucket>/<key>`),
 * which every S3-compatible server accepts.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import picomatch from 'picomatch';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { InputError } from '../errors.ts';
import { DATA_FILES, hasGlob, type InputInfo } from './storage.ts';

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

/** The SDK's error as a sentence that names the URL and what to check. */
function storageError(url: string, doing: string, e: unknown): InputError {
  const name = e instanceof Error ? e.name : 'Error';
  const message = e instanceof Error ? e.message : String(e);
  const status = e instanceof S3ServiceException ? ` (HTTP ${e.$metadata.httpStatusCode ?? '?'})` : '';
  const hint = /credential/i.test(name + message)
    ? '; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE'
    : /region/i.test(message)
      ? '; set AWS_REGION'
      : /ECONNREFUSED|ENOTFOUND|EAI_AGAIN/.test(message)
        ? `; is the endpoint right (AWS_ENDPOINT_URL=${process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL ?? 'unset: AWS itself'})?`
        : '';
  return new InputError(url, {}, `cannot ${doing}: ${name}${status}: ${message}${hint}`);
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
async function* objectsUnder(bucket: string, prefix: string, url: string): AsyncGenerator<{ key: string; size: number; etag: string }> {
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client().send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    } catch (e) {
      throw storageError(url, 'list the bucket', e);
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
