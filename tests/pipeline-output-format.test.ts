/**
 * `output_format`: kept/ and rejected/ as Refinery's `{id, text, meta}`, Dolma documents
 * (`documents/` folder, top-level source/added/created, `metadata`) or datatrove `{text, id,
 * metadata}`; the accounting holds, the layouts read back into the same documents, and a resumed
 * run refuses a changed format.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { readDocs } from '../pipeline/io/read.ts';
import type { Doc } from '../pipeline/doc.ts';

const BIN = resolve('bin/refinery.mjs');
const PLUGIN = resolve('tests/fixtures/core/test-stages.ts');

function refinery(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 180_000 });
}

const RECORDS = [
  { id: 'a', text: 'a web page about rivers', source: 'web', url: 'https://example.com/a', date: 1_700_000_000, language: 'en' },
  { id: 'b', text: 'hi', source: 'web', url: 'https://example.com/b' },
  { id: 'c', text: 'a crawled page with a WARC date', 'WARC-Date': '2023-03-20T10:00:00Z', added: '2024-01-01T00:00:00Z', meta: { quality: 0.7 } },
  { id: 'd', text: 'a datatrove document', metadata: { source: 'books', created: '1999-01-01', pages: 3 } },
];

async function project(format: string | null): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-format-'));
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'a.jsonl'), RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n');
  await writeFile(join(dir, 'p.yaml'), `inputs: ["data/*.jsonl"]\noutput: out\nworkers: 1\nplugins: ["${PLUGIN}"]\nstages: [poison]\n${format ? `output_format: ${format}\n` : ''}`);
  return dir;
}

async function load(path: string): Promise<Record<string, unknown>[]> {
  return gunzipSync(await readFile(path)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

async function docsOf(path: string): Promise<Doc[]> {
  const out: Doc[] = [];
  for await (const it of readDocs(path)) if (it.kind === 'doc') out.push(it.doc);
  return out;
}

async function run(format: string | null): Promise<string> {
  const dir = await project(format);
  const r = refinery(['run', join(dir, 'p.yaml'), '-q', '--no-report']);
  assert.equal(r.status, 0, r.stderr);
  return join(dir, 'out');
}

test('dolma, datatrove and refinery layouts: same documents, each in its own shape', async () => {
  const [own, dolma, datatrove] = await Promise.all([run(null), run('dolma'), run('datatrove')]);

  assert.deepEqual((await readdir(join(dolma, 'kept'))).sort(), ['attributes', 'documents']);
  const kept = await load(join(dolma, 'kept', 'documents', 'shard-00000.jsonl.gz'));
  assert.deepEqual(kept, [
    { id: 'a', text: RECORDS[0]!.text, source: 'web', created: '2023-11-14T22:13:20.000Z', metadata: { url: 'https://example.com/a', date: 1_700_000_000, language: 'en' } },
    { id: 'c', text: RECORDS[2]!.text, source: 'unknown', added: '2024-01-01T00:00:00Z', created: '2023-03-20T10:00:00Z', metadata: { 'WARC-Date': '2023-03-20T10:00:00Z', quality: 0.7 } },
    { id: 'd', text: RECORDS[3]!.text, source: 'books', created: '1999-01-01', metadata: { pages: 3 } },
  ]);
  const rejected = await load(join(dolma, 'rejected', 'documents', 'shard-00000.jsonl.gz'));
  assert.deepEqual(rejected, [{ id: 'b', text: 'hi', source: 'web', metadata: { url: 'https://example.com/b', reject_reason: 'poison:too_short' } }]);

  const dt = await load(join(datatrove, 'kept', 'shard-00000.jsonl.gz'));
  assert.deepEqual(dt.map((r) => Object.keys(r)), [['text', 'id', 'metadata'], ['text', 'id', 'metadata'], ['text', 'id', 'metadata']]);
  assert.deepEqual(dt[2], { text: RECORDS[3]!.text, id: 'd', metadata: { source: 'books', created: '1999-01-01', pages: 3 } });

  // read back, every layout gives Refinery's documents (Dolma's epoch date is now also an ISO `created`)
  const ownDocs = await docsOf(join(own, 'kept', 'shard-00000.jsonl.gz'));
  assert.deepEqual(await docsOf(join(datatrove, 'kept', 'shard-00000.jsonl.gz')), ownDocs);
  const dolmaDocs = await docsOf(join(dolma, 'kept', 'documents', 'shard-00000.jsonl.gz'));
  assert.deepEqual(dolmaDocs.map((d) => d.id), ownDocs.map((d) => d.id));
  for (const [i, d] of dolmaDocs.entries()) for (const [k, v] of Object.entries(ownDocs[i]!.meta)) assert.deepEqual(d.meta[k], v, `${d.id} meta.${k}`);

  // the accounting is the same whatever the layout
  const stats = async (out: string) => JSON.parse(await readFile(join(out, 'stats.json'), 'utf8')) as { stages: { kept: number; rejected: number }[] };
  assert.deepEqual((await stats(dolma)).stages.map((s) => [s.kept, s.rejected]), [[3, 1]]);
  assert.deepEqual((await stats(datatrove)).stages.map((s) => [s.kept, s.rejected]), (await stats(own)).stages.map((s) => [s.kept, s.rejected]));
});

test('a finished run resumes in its format; another output_format in the same folder is refused by name', async () => {
  const dir = await project('dolma');
  const p = join(dir, 'p.yaml');
  assert.equal(refinery(['run', p, '-q', '--no-report']).status, 0);
  const first = await readFile(join(dir, 'out', 'kept', 'documents', 'shard-00000.jsonl.gz'));
  const again = refinery(['run', p, '-q', '--no-report']);
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(await readFile(join(dir, 'out', 'kept', 'documents', 'shard-00000.jsonl.gz')), first);

  await writeFile(p, (await readFile(p, 'utf8')).replace('output_format: dolma', 'output_format: datatrove'));
  const changed = refinery(['run', p, '-q', '--no-report']);
  assert.equal(changed.status, 1);
  assert.match(changed.stderr, /output_format: was "?dolma"?, now "?datatrove"?/);
});

test('an unknown output_format is a config error naming the key', async () => {
  const dir = await project('arrow');
  const r = refinery(['run', join(dir, 'p.yaml'), '-q', '--no-report']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /p\.yaml: output_format: /);
});

test('inspect and the report read a dolma or datatrove run as they read a refinery one (runRecords)', async () => {
  const { runRecords } = await import('../mixes/run-records.ts');
  const byId = async (out: string) => {
    const m = new Map<string, { outcome: string; reason: unknown }>();
    for await (const r of runRecords(out, ['kept', 'rejected'])) m.set(r.id, { outcome: r.outcome, reason: r.meta.reject_reason });
    return m;
  };
  const [own, dolma, datatrove] = await Promise.all([run(null), run('dolma'), run('datatrove')]);
  const expected = await byId(own);
  assert.ok(expected.size > 0 && [...expected.values()].some((v) => v.outcome === 'rejected' && typeof v.reason === 'string'));
  assert.deepEqual(await byId(dolma), expected);
  assert.deepEqual(await byId(datatrove), expected);
});
