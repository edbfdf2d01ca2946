/**
 * A finished run is read the same from its folder and from its s3:// prefix: `inspect`, `report`,
 * `mix census` and `export megatron` take either (pipeline/run-folder/open-run.ts), against a real
 * S3-protocol server (s3rver). `inspect --id/--url` gives one document's fate; `inspect --json |
 * head` ends quietly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useS3Workspace } from './fixtures/s3/s3-server.ts';
import { loadPipelineFile } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { inspectRun } from '../mixes/inspect.ts';
import { buildCensus } from '../mixes/census.ts';
import { BIN } from './cli-processes.ts';
import { SAMPLE_CORPUS } from './sample-corpus.ts';

registerBuiltinStages();

const corpus = SAMPLE_CORPUS;
let work: string;
let local: string;
const remote = 's3://bkt/runs/anywhere';

/** Two small inputs, a filter that rejects some documents, and token shards. */
async function pipeline(name: string, output: string): Promise<string> {
  const f = join(work, `${name}.yaml`);
  await writeFile(f, `inputs: ["${corpus}/multilingual.jsonl.gz", "${corpus}/generated-lowquality.jsonl.gz"]\noutput: ${output}\nworkers: 1\nseed: 3\nstages: [c4, tokenize]\n`);
  return f;
}

/** What `refinery <argv>` printed and its exit status (a process of its own: the test runner reports on this one's stdout). */
async function cli(...argv: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const proc = spawn(process.execPath, [BIN, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REFINERY_FROM_SOURCE: '1' } });
  let out = '';
  let err = '';
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()));
  proc.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  return { code, out, err };
}

useS3Workspace(['bkt'], 'refinery-anywhere-test-', async (ws) => {
  work = ws.work;
  local = join(work, 'local');
  await runPipeline(await loadPipelineFile(await pipeline('local', local)), { quiet: true, report: false } as never);
  await runPipeline(await loadPipelineFile(await pipeline('remote', remote), { workDir: join(work, 'scratch') }), { quiet: true });
});

test('inspect reads a run on a bucket as it reads its folder: the same documents, verdicts and measurements', async () => {
  for (const filter of [{}, { outcomes: ['rejected' as const] }, { reason: 'c4:too_few_sentences' }]) {
    const here = await inspectRun(local, filter, 7, 1);
    const there = await inspectRun(remote, filter, 7, 1);
    assert.ok(here.matched > 0, JSON.stringify(filter));
    assert.equal(there.matched, here.matched);
    assert.deepEqual(there.docs, here.docs);
    assert.deepEqual(there.warnings, []);
  }
  await assert.rejects(inspectRun('s3://bkt/runs/none', {}, 1), /s3:\/\/bkt\/runs\/none: no objects under this prefix/);
});

test('inspect --id and --url give one document\'s fate directly: kept, or rejected with the rule and what it measured', async () => {
  const all = await inspectRun(local, {}, 1_000_000);
  const kept = all.docs.find((d) => d.outcome === 'kept')!;
  const rejected = all.docs.find((d) => d.outcome === 'rejected')!;
  for (const run of [local, remote]) {
    const k = await inspectRun(run, { id: kept.id }, 1);
    assert.deepEqual(k.docs.map((d) => [d.outcome, d.id]), [['kept', kept.id]]);
    const r = await inspectRun(run, { id: rejected.id }, 1);
    assert.deepEqual(r.docs.map((d) => [d.outcome, d.id, d.reason, d.field]), [['rejected', rejected.id, rejected.reason, rejected.field]]);
  }
  const r = await cli('inspect', remote, '--id', rejected.id, '--json');
  assert.equal(r.code, 0, r.err);
  const shown = r.out.trim().split('\n').map((l) => JSON.parse(l) as { outcome: string; id: string; reason: string });
  assert.deepEqual(shown.map((d) => [d.outcome, d.id, d.reason]), [['rejected', rejected.id, rejected.reason]]);
  const none = await cli('inspect', remote, '--id', 'no-such-document');
  assert.equal(none.out, `no document with id no-such-document in ${remote} (kept/, rejected/ or errors/)\n`);
  const withUrl = all.docs.find((d) => typeof d.meta.url === 'string');
  if (withUrl) assert.deepEqual((await inspectRun(remote, { url: withUrl.meta.url as string }, 1)).docs.map((d) => d.id), all.docs.filter((d) => d.meta.url === withUrl.meta.url).map((d) => d.id));
});

test('report, mix census and export megatron take the s3:// prefix of a run and give what they give for its folder', async () => {
  const reports = join(work, 'reports');
  for (const [run, name] of [[local, 'local'], [remote, 'remote']] as const) {
    const r = await cli('report', run, '-o', join(reports, name));
    assert.equal(r.code, 0, r.err);
  }
  const report = async (which: string) => JSON.parse(await readFile(join(reports, which, 'report.json'), 'utf8')) as Record<string, unknown>;
  const [a, b] = [await report('local'), await report('remote')];
  // Timings differ from run to run: everything else is the same.
  const untimed = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'seconds' ? undefined : x)));
  for (const key of ['funnel', 'examples', 'histograms', 'buckets', 'languages']) assert.deepEqual(untimed(b[key]), untimed(a[key]), key);

  const censusHere = (await buildCensus([local])).census;
  const censusThere = (await buildCensus([remote])).census;
  assert.ok(censusHere.totals.tokens > 0);
  assert.deepEqual({ ...censusThere, inputs: [] }, { ...censusHere, inputs: [] });
  assert.deepEqual(censusThere.inputs, [remote]);
  assert.equal((await cli('mix', 'census', remote, '-o', join(work, 'census.json'))).code, 0);
  assert.deepEqual(JSON.parse(await readFile(join(work, 'census.json'), 'utf8')), censusThere);

  for (const [run, name] of [[local, 'local'], [remote, 'remote'], [`${remote}/tokens`, 'tokens']] as const) {
    const r = await cli('export', 'megatron', run, '-o', join(work, 'mega', name));
    assert.equal(r.code, 0, r.err);
  }
  for (const ext of ['bin', 'idx']) {
    const want = await readFile(join(work, 'mega', `local.${ext}`));
    assert.ok(want.length > 0);
    assert.ok((await readFile(join(work, 'mega', `remote.${ext}`))).equals(want), ext);
    assert.ok((await readFile(join(work, 'mega', `tokens.${ext}`))).equals(want), ext);
  }
  assert.deepEqual((await readdir(join(tmpdir(), 'refinery-tasks'))).filter((n) => n.includes(`-${process.pid}-`)), [], 'the commands deleted what they fetched');
});

test('refinery inspect --json | head ends quietly: no EPIPE, no stack trace, status 0', async () => {
  const proc = spawn(process.execPath, [BIN, 'inspect', local, '--json', '-n', '100000', '--chars', '100'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, REFINERY_FROM_SOURCE: '1' } });
  let err = '';
  proc.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  // A reader that takes one chunk and goes away, as head does.
  await new Promise<void>((resolve) => proc.stdout!.once('data', () => resolve()));
  proc.stdout!.destroy();
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  assert.equal(err, '', 'nothing on stderr');
  assert.equal(code, 0);
});
