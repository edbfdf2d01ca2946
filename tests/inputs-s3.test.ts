/**
 * Inputs on S3-compatible object storage, against a real S3-protocol server (s3rver) on
 * 127.0.0.1: globs, folders, streaming and ranged reads, Parquet and WARC, a whole run, resuming
 * and the refusal of a changed object.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Upload } from '@aws-sdk/lib-storage';
import { useS3Workspace, type LocalS3 } from './fixtures/s3/s3-server.ts';
import { listInputs } from '../pipeline/io/storage.ts';
import { readDocs } from '../pipeline/io/read.ts';
import type { ReadItem } from '../pipeline/io/read-item.ts';
import { loadPipelineFile } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { SAMPLE_CORPUS } from './sample-corpus.ts';

registerBuiltinStages();

// Small ranges, so that a few-MB object is read in several ranged GETs (read when s3.ts loads).
process.env.REFINERY_S3_RANGE_BYTES = String(1 << 20);

const corpus = SAMPLE_CORPUS;
let s3: LocalS3;
let work: string;

useS3Workspace(['bkt'], 'refinery-s3-test-', (ws) => ({ s3, work } = ws));

/** Writes the same bytes to a local file under `work/local/` and to s3://bkt/<key>. */
async function both(key: string, body: Uint8Array | string): Promise<string> {
  const local = join(work, 'local', key);
  await mkdir(dirname(local), { recursive: true });
  await writeFile(local, body);
  await s3.put('bkt', key, body);
  return local;
}

async function items(file: string): Promise<ReadItem[]> {
  const out: ReadItem[] = [];
  for await (const it of readDocs(file, { idPrefix: 'x' })) out.push(it);
  return out;
}

/** Items without the file name, which differs (a path, a URL) between the two reads. */
const comparable = (xs: ReadItem[], file: string) => xs.map((it) => (it.kind === 'doc' ? { doc: it.doc } : { error: it.error.replaceAll(file, '<file>') }));

test('an s3:// glob or prefix matches the keys a local glob or folder matches on the same tree', async () => {
  for (const key of ['tree/a.jsonl', 'tree/b.jsonl.gz', 'tree/c.json', 'tree/sub/d.jsonl', 'tree/sub/deep/e.jsonl.zst', 'tree/.hidden.jsonl', 'tree/README.md', 'tree/_work/segment-0/f.jsonl', 'tree/x.parquet', 'tree/y.warc.gz', 'tree/z.txt']) {
    await both(key, '{"id":"1","text":"x"}\n');
  }
  const localRoot = join(work, 'local');
  const same = async (localPattern: string, url: string, as: 'glob' | 'folder') => {
    const local = (await listInputs(localPattern, as)).map((f) => relative(localRoot, f)).sort();
    const remote = (await listInputs(url, as)).map((u) => u.slice('s3://bkt/'.length)).sort();
    assert.ok(local.length > 0, `${localPattern} matches something`);
    assert.deepEqual(remote, local, `${url} matches what ${localPattern} matches`);
    return remote;
  };
  assert.deepEqual(await same(join(localRoot, 'tree/*.jsonl*'), 's3://bkt/tree/*.jsonl*', 'glob'), ['tree/a.jsonl', 'tree/b.jsonl.gz']);
  await same(join(localRoot, 'tree/**/*.jsonl'), 's3://bkt/tree/**/*.jsonl', 'glob');
  await same(join(localRoot, 'tree/*/*.{jsonl,jsonl.zst}'), 's3://bkt/tree/*/*.{jsonl,jsonl.zst}', 'glob');
  await same(join(localRoot, 'tree/s?b/**'), 's3://bkt/tree/s?b/**', 'glob');
  const folder = await same(join(localRoot, 'tree'), 's3://bkt/tree', 'folder');
  assert.ok(!folder.some((k) => k.includes('_work') || k.endsWith('.md') || k.endsWith('.txt')), 'a folder contributes data files only');
  assert.deepEqual(await listInputs('s3://bkt/tree/', 'folder'), await listInputs('s3://bkt/tree', 'folder'));
});

test('every file of the sample corpus (JSONL.gz, Parquet, WARC, WET) reads the same from a bucket as from disk', async () => {
  for (const name of (await readdir(corpus)).sort()) {
    await s3.put('bkt', `sample/${name}`, await readFile(join(corpus, name)));
    const local = comparable(await items(join(corpus, name)), join(corpus, name));
    const remote = await items(`s3://bkt/sample/${name}`);
    assert.ok(local.length > 0, name);
    assert.deepEqual(comparable(remote, `s3://bkt/sample/${name}`), local, name);
    for (const it of remote) assert.ok((it.where.file ?? '').startsWith('s3://bkt/sample/'), `${name}: items name the object`);
  }
});

test('an object uploaded in parts and read in 1 MiB ranges gives every line once, in order', async () => {
  const lines = Array.from({ length: 60_000 }, (_, i) => JSON.stringify({ id: `d${i}`, text: `document number ${i} ${'word '.repeat(i % 23)}` }));
  const body = Buffer.from(lines.join('\n') + '\n');
  assert.ok(body.length > 5 * (1 << 20), `${body.length} bytes: several ranges and two upload parts`);
  await new Upload({ client: s3.client, params: { Bucket: 'bkt', Key: 'big/parts.jsonl', Body: body }, partSize: 5 * 1024 * 1024 }).done();
  const ids: string[] = [];
  for await (const it of readDocs('s3://bkt/big/parts.jsonl')) {
    assert.equal(it.kind, 'doc');
    if (it.kind === 'doc') ids.push(it.doc.id);
  }
  assert.deepEqual(ids, lines.map((_, i) => `d${i}`));
});

test('a missing object is an InputError naming the URL', async () => {
  await assert.rejects(items('s3://bkt/sample/nothing.jsonl'), /s3:\/\/bkt\/sample\/nothing\.jsonl: no such file/);
});

async function outputs(dir: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const sub of ['kept', 'rejected']) for (const f of (await readdir(join(dir, sub))).sort()) out.set(`${sub}/${f}`, await readFile(join(dir, sub, f)));
  return out;
}

test('a run over an s3:// glob writes what a run over the same local files writes, resumes, and refuses a changed object', async () => {
  const texts: string[] = [];
  for (let s = 0; s < 3; s++) {
    const rows = Array.from({ length: 400 }, (_, i) => {
      const n = s * 400 + i;
      const text = n % 7 === 0 ? 'too short' : `Document ${n} is a paragraph of ordinary prose.\nIt has several sentences that end properly.\nThis one makes ${n % 5} points about the weather.\nThe fourth line says little more than the third did.\nAnd the fifth line closes the paragraph as it should.`;
      return JSON.stringify({ id: `doc-${n}`, text, source: 'web' });
    });
    if (s === 1) rows.splice(3, 0, '{"id": broken');
    texts.push(rows.join('\n') + '\n');
    // part-2 stored uncompressed inside gzip, so that an edit of one letter keeps its size (below)
    await both(`runs/in/part-${s}.jsonl.gz`, gzipSync(texts[s]!, { level: s === 2 ? 0 : 6 }));
  }
  const pipeline = async (name: string, inputs: string, extra = '') => {
    const f = join(work, `${name}.yaml`);
    await writeFile(f, `inputs: ["${inputs}"]\noutput: ${name}-out\nworkers: 1\nsplit_bytes: 4000\nstages: [c4]\n${extra}`);
    return f;
  };
  const local = await loadPipelineFile(await pipeline('local', 'local/runs/in/*.jsonl.gz'));
  const remoteFile = await pipeline('remote', 's3://bkt/runs/in/*.jsonl.gz');
  const remote = await loadPipelineFile(remoteFile);
  assert.equal(remote.inputs[0]!.pattern, 's3://bkt/runs/in/*.jsonl.gz', 'an s3:// input is not resolved as a path');
  const a = await runPipeline(local, { quiet: true });
  const b = await runPipeline(remote, { quiet: true });
  assert.equal(b.stats.totals.in, a.stats.totals.in);
  assert.equal(b.stats.totals.errored, 1);
  assert.ok(b.stats.totals.kept > 900 && b.stats.totals.rejected > 100, `kept ${b.stats.totals.kept}, rejected ${b.stats.totals.rejected}`);
  const kept = await outputs(a.output);
  assert.ok(kept.size > 3, `split_bytes made stripes: ${[...kept.keys()].join(', ')}`);
  assert.deepEqual(await outputs(b.output), kept);

  const record = JSON.parse(await readFile(join(b.output, 'run.json'), 'utf8')) as { identity: { files: { file: string; size: number; etag?: string; mtime_s?: number }[] } };
  assert.deepEqual(record.identity.files.map((f) => f.file), [0, 1, 2].map((s) => `s3://bkt/runs/in/part-${s}.jsonl.gz`));
  for (const f of record.identity.files) {
    assert.match(f.etag ?? '', /^"[0-9a-f]{32}"$/);
    assert.equal(f.mtime_s, undefined);
  }

  // Resuming: every task is marked done, so no shard is written again.
  const written = async () => Promise.all([...kept.keys()].map(async (k) => (await stat(join(b.output, k))).mtimeMs));
  const before = await written();
  const again = await runPipeline(await loadPipelineFile(remoteFile), { quiet: true });
  assert.equal(again.stats.totals.in, b.stats.totals.in);
  assert.deepEqual(await written(), before);

  // The same size, other bytes: only the ETag tells.
  const edited = gzipSync(texts[2]!.replace('ordinary', 'ordinarx'), { level: 0 });
  assert.equal(edited.length, record.identity.files[2]!.size);
  await s3.put('bkt', 'runs/in/part-2.jsonl.gz', edited);
  await assert.rejects(runPipeline(await loadPipelineFile(remoteFile), { quiet: true }), /input object s3:\/\/bkt\/runs\/in\/part-2\.jsonl\.gz changed: ETag "[0-9a-f]+", now "[0-9a-f]+"/);
});

test('pipeline inputs that match nothing in the bucket are config errors naming the key', async () => {
  const f = join(work, 'none.yaml');
  await writeFile(f, 'inputs: ["s3://bkt/none/*.jsonl"]\noutput: none-out\nworkers: 1\n');
  await assert.rejects(runPipeline(await loadPipelineFile(f), { quiet: true }), (e: unknown) => e instanceof ConfigError && e.keyPath === 'inputs[0]' && /matches no file/.test(e.message));
  await writeFile(f, 'inputs: ["s3://bkt/none.jsonl"]\noutput: none-out\nworkers: 1\n');
  await assert.rejects(runPipeline(await loadPipelineFile(f), { quiet: true }), (e: unknown) => e instanceof ConfigError && /no such object or prefix: s3:\/\/bkt\/none\.jsonl/.test(e.message));
});
