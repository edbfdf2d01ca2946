/**
 * The cluster rehearsal: a queue run that needs no shared disk. s3rver and a private Redis on
 * 127.0.0.1; three worker processes, each with its own TMPDIR and working folder, sharing nothing
 * with each other or with `submit`; 200 input shards in the bucket; the quickstart's stages. One
 * worker is killed with SIGKILL in the middle of a task, another in the middle of an upload (its
 * connection to the bucket goes through a proxy that holds back the first PUT it sees), and Redis
 * is restarted once. The objects under the output prefix are those a local run of the same pipeline
 * writes, byte for byte. The test prints, per phase, the requests and bytes the tasks moved.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCli, startCli, until as untilProbe, type CliProcess } from './cli-processes.ts';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import { startS3, type LocalS3 } from './fixtures/s3/s3-server.ts';
import { freePort, startRedis as startRedisServer } from './redis-fixture.ts';
import { RunQueue } from '../pipeline/queue/run-queue.ts';
import { runStatus } from '../pipeline/queue/status.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CORPUS = join(ROOT, 'examples', 'corpus');
/**
 * JSONL shards made from the sample corpus's JSONL files; with its WARC, WET and Parquet files, 200
 * shards (REFINERY_REHEARSAL_SHARDS sets the JSONL count, e.g. 18 for a quicker rehearsal).
 */
const JSONL_SHARDS = Number(process.env.REFINERY_REHEARSAL_SHARDS) > 0 ? Number(process.env.REFINERY_REHEARSAL_SHARDS) : 197;

let s3: LocalS3;
let dir: string;
const children: ChildProcess[] = [];

before(async () => {
  s3 = await startS3(['rehearsal']);
  dir = await mkdtemp(join(tmpdir(), 'refinery-rehearsal-'));
});
after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await s3?.close();
  await rm(dir, { recursive: true, force: true });
});

const objects = (prefix: string) => s3.objects('rehearsal', prefix);

/** The keys under `s3://rehearsal/<prefix>/`, relative to it. */
async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.client.send(new ListObjectsV2Command({ Bucket: 'rehearsal', Prefix: `${prefix}/`, ContinuationToken: token }));
    for (const o of page.Contents ?? []) out.push(o.Key!.slice(prefix.length + 1));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return out;
}

async function localFiles(root: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) out.set(relative(root, join(e.parentPath, e.name)), await readFile(join(e.parentPath, e.name)));
  }
  return out;
}

/** The sample corpus in the bucket: each JSONL file cut into consecutive pieces, the other files as they are. */
async function uploadInputs(): Promise<number> {
  const jsonl = (await readdir(CORPUS)).filter((n) => n.endsWith('.jsonl.gz')).sort();
  const lines = await Promise.all(jsonl.map(async (n) => gunzipSync(await readFile(join(CORPUS, n))).toString('utf8').split('\n').filter(Boolean)));
  const total = lines.reduce((a, l) => a + l.length, 0);
  let shards = 0;
  for (const [i, name] of jsonl.entries()) {
    const mine = lines[i]!;
    const pieces = Math.max(1, Math.round((JSONL_SHARDS * mine.length) / total));
    for (let p = 0; p < pieces; p++) {
      const part = mine.slice(Math.floor((p * mine.length) / pieces), Math.floor(((p + 1) * mine.length) / pieces));
      if (!part.length) continue;
      await s3.put('rehearsal', `in/${name.replace('.jsonl.gz', '')}-${String(p).padStart(3, '0')}.jsonl`, part.join('\n') + '\n');
      shards++;
    }
  }
  for (const name of ['debian-history.warc.gz', 'debian-history.wet.gz', 'code.parquet']) {
    await s3.put('rehearsal', `in/${name}`, await readFile(join(CORPUS, name)));
    shards++;
  }
  return shards;
}

/** The quickstart's stages over the bucket's inputs (its model named by absolute path: every worker has the checkout). */
async function writePipeline(output: string): Promise<string> {
  const text = (await readFile(join(ROOT, 'examples', 'quickstart.yaml'), 'utf8'))
    .replace(/^inputs:[^]*?^output: .*$/m, [
      'inputs:',
      '  - s3://rehearsal/in/*.jsonl',
      '  - path: s3://rehearsal/in/*.warc.gz',
      '    meta: { source: debian-history }',
      '  - path: s3://rehearsal/in/*.wet.gz',
      '    meta: { source: debian-history }',
      '  - path: s3://rehearsal/in/code.parquet',
      '    meta: { category: code }',
      `output: ${output}`,
    ].join('\n'))
    .replace('model: models/quality', `model: ${join(ROOT, 'examples', 'models', 'quality')}`);
  assert.ok(text.includes(`output: ${output}`) && !text.includes('corpus/'), text.slice(0, 400));
  const f = join(dir, `pipeline-${output.replace(/[^a-z]/g, '')}.yaml`);
  await writeFile(f, text);
  return f;
}

/**
 * A TCP proxy to the bucket for one worker: it forwards everything until `holdNextPut` is set,
 * then holds back the first request that starts with PUT (never forwarding it) and resolves `held`
 * with its request line.
 */
function bucketProxy(target: number): Promise<{ port: number; holdNextPut: () => Promise<string>; server: Server }> {
  let holding = false;
  let onHeld: (line: string) => void = () => {};
  const server = createServer((client: Socket) => {
    const upstream = connect(target, '127.0.0.1');
    let stalled = false;
    client.on('data', (chunk: Buffer) => {
      if (stalled) return;
      if (holding && chunk.subarray(0, 4).toString('latin1') === 'PUT ') {
        stalled = true;
        holding = false;
        onHeld(chunk.toString('latin1').split('\r\n')[0]!);
        return;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => client.write(chunk));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        port: (server.address() as { port: number }).port,
        server,
        holdNextPut: () =>
          new Promise((r) => {
            onHeld = r;
            holding = true;
          }),
      }),
    ),
  );
}

async function startRedis(port: number, dataDir: string): Promise<ChildProcess> {
  const proc = await startRedisServer(port, dataDir);
  children.push(proc);
  return proc;
}

type Worker = CliProcess;

/** A worker process with a TMPDIR and a working folder of its own, reaching the bucket at `endpoint`. */
async function startWorker(name: string, redis: string, endpoint: string): Promise<Worker> {
  const home = join(dir, name);
  await mkdir(join(home, 'tmp'), { recursive: true });
  const env = { ...process.env, TMPDIR: join(home, 'tmp'), AWS_ENDPOINT_URL: endpoint };
  return startCli(home, ['worker', '--redis', redis, '--prefix', '{rehearsal}', '-c', '1', '--lock-duration', '3000', '--stalled-interval', '1000'], children, env);
}

const cli = (args: string[], cwd: string, env: NodeJS.ProcessEnv = process.env) => runCli(cwd, args, env);

/** Waits as long as a whole run on three workers may take here, polling every 200 ms. */
const until = (what: string, probe: () => Promise<boolean> | boolean, workers: Worker[]) => untilProbe(what, async () => await probe(), workers, 2_400_000, 200);

test('three workers with nothing in common but Redis and the bucket, two of them killed and Redis restarted, store what a local run writes', { timeout: 3_600_000 }, async () => {
  const shards = await uploadInputs();
  assert.ok(shards >= JSONL_SHARDS, `${shards} input shards`);

  // The reference: `refinery run` of the same pipeline into a local folder.
  const localOut = join(dir, 'local-out');
  const tLocal = performance.now();
  const local = await cli(['run', await writePipeline(localOut), '-q', '-w', '2'], dir);
  const localSeconds = (performance.now() - tLocal) / 1000;
  assert.equal(local.code, 0, local.stderr);

  const port = await freePort();
  const redisDir = join(dir, 'redis');
  await mkdir(redisDir);
  let redisProc = await startRedis(port, redisDir);
  const redis = `redis://127.0.0.1:${port}`;
  const submitter = join(dir, 'submitter');
  await mkdir(join(submitter, 'tmp'), { recursive: true });
  const pipeline = await writePipeline('s3://rehearsal/out/queued');
  const t0 = performance.now();
  const sub = await cli(['submit', pipeline, '--redis', redis, '--prefix', '{rehearsal}', '--backoff', '100', '--attempts', '5'], submitter, { ...process.env, TMPDIR: join(submitter, 'tmp') });
  assert.equal(sub.code, 0, sub.stderr);
  const run = sub.stdout.trim().split('\n').pop()!;

  const proxy = await bucketProxy(Number(new URL(s3.endpoint).port));
  const direct = s3.endpoint;
  const viaProxy = `http://127.0.0.1:${proxy.port}`;
  const w1 = await startWorker('w1', redis, direct);
  const w2 = await startWorker('w2', redis, viaProxy);
  const w3 = await startWorker('w3', redis, direct);
  const workers = [w1, w2, w3];
  try {
    // Worker 1 killed in the middle of a task: it has started one and not finished it.
    await until('worker 1 to be in the middle of a task', () => {
      const lines = w1.log().split('\n').filter((l) => / (started|done in) /.test(l));
      return lines.length > 4 && /: started /.test(lines[lines.length - 1]!);
    }, workers);
    w1.proc.kill('SIGKILL');

    // Worker 2 killed in the middle of an upload: its next PUT never reaches the bucket.
    const before = new Set(await keys('out/queued'));
    const held = await proxy.holdNextPut();
    w2.proc.kill('SIGKILL');
    const heldKey = decodeURIComponent(held.split(' ')[1]!.split('?')[0]!).replace(/^\/rehearsal\//, '');
    assert.ok(heldKey.startsWith('out/queued/'), held);
    // The upload the kill cut off left no object a reader could take for a result (a key no earlier
    // attempt had stored; its task has not run again yet: the lock lasts 3 s).
    if (!before.has(heldKey.slice('out/queued/'.length))) {
      const partial = await s3.client.send(new HeadObjectCommand({ Bucket: 'rehearsal', Key: heldKey })).then(() => true, () => false);
      assert.equal(partial, false, `${heldKey} exists after the upload of it was cut off`);
    }

    // Redis restarted once (saved on shutdown, loaded on start).
    const admin = new Redis({ port, maxRetriesPerRequest: 1, retryStrategy: () => null });
    admin.on('error', () => {});
    await admin.call('SHUTDOWN', 'SAVE').catch(() => {});
    admin.disconnect();
    await new Promise((r) => (redisProc.exitCode !== null ? r(null) : redisProc.once('exit', r)));
    await sleep(300);
    redisProc = await startRedis(port, redisDir);

    // A fresh worker takes worker 1's place (a spot instance replaced), with its own folders.
    const w4 = await startWorker('w4', redis, direct);
    workers.push(w4);
    const rq = RunQueue.open({ redis, queue: 'refinery', prefix: '{rehearsal}', cluster: false });
    const status = async () => {
      const record = await rq.records.get(run);
      return record ? (await runStatus(rq, record)).state : 'unknown';
    };
    await until('the run to complete', async () => {
      const state = await status();
      assert.notEqual(state, 'failed', workers.map((w) => w.log().slice(-3000)).join('\n---\n'));
      return state === 'completed';
    }, workers);
    const seconds = (performance.now() - t0) / 1000;
    await rq.close();

    const got = await objects('out/queued');
    const want = await localFiles(localOut);
    // Same names and bytes, but for run.lock (none after a run), phase data (dropped), stats.json and the report (seconds).
    // run.json holds the run id, which names the output (a folder here, the prefix there): its identity is compared instead.
    const data = (keys: Iterable<string>) => [...keys].filter((k) => !k.startsWith('_work/') && !k.startsWith('report/') && !['stats.json', 'report.md', 'run.lock', 'run.json'].includes(k)).sort();
    assert.deepEqual(data(got.keys()), data(want.keys()));
    for (const k of data(want.keys())) assert.ok(got.get(k)!.equals(want.get(k)!), `${k} as the local run wrote it`);
    const identity = (b: Buffer) => (JSON.parse(b.toString()) as { identity: unknown }).identity;
    assert.deepEqual(identity(got.get('run.json')!), identity(want.get('run.json')!));
    const totals = (b: Buffer) => (JSON.parse(b.toString()) as { totals: unknown }).totals;
    assert.deepEqual(totals(got.get('stats.json')!), totals(want.get('stats.json')!));
    assert.ok(got.has('report/report.html'), 'the report, written from the bucket');
    assert.ok(![...got.keys()].some((k) => k.startsWith('_work/') && !k.startsWith('_work/tasks/')), 'phase data dropped');
    // The upload cut off by the kill left no partial object: what is there is what the local run wrote.
    const rel = heldKey.slice('out/queued/'.length);
    if (!rel.startsWith('_work/')) assert.ok(got.get(rel)?.equals(want.get(rel)!), `${rel} whole`);
    // Every worker's scratch is empty once its tasks have ended (the killed ones keep what they held).
    // A worker may still be running a task that was taken from it while Redis was away and completed
    // by another: its scratch empties when that task ends, which the wait allows for.
    for (const name of ['w3', 'w4']) {
      const scratch = join(dir, name, 'tmp', 'refinery-tasks');
      const left = async () => readdir(scratch).catch(() => [] as string[]);
      await untilProbe(`${name}'s scratch to empty`, async () => (await left()).length === 0, workers, 120_000, 500).catch(() => undefined);
      assert.deepEqual(await left(), [], `${name} scratch`);
    }

    // Requests and bytes per phase, from the task markers.
    const perPhase = new Map<string, { tasks: number; gets: number; bytesIn: number; puts: number; bytesOut: number }>();
    for (const [k, v] of got) {
      if (!k.startsWith('_work/tasks/')) continue;
      const r = JSON.parse(v.toString()) as { task: { kind: string }; stored?: { files: number; bytes: number; gets?: number; bytes_in?: number } };
      const p = perPhase.get(r.task.kind) ?? { tasks: 0, gets: 0, bytesIn: 0, puts: 0, bytesOut: 0 };
      p.tasks++;
      p.gets += r.stored?.gets ?? 0;
      p.bytesIn += r.stored?.bytes_in ?? 0;
      p.puts += r.stored?.files ?? 0;
      p.bytesOut += r.stored?.bytes ?? 0;
      perPhase.set(r.task.kind, p);
    }
    const lines = [`rehearsal: ${shards} shards; the queue run on the bucket ${seconds.toFixed(0)} s (3 workers, two killed, one replacement, Redis restarted), the local run into a folder ${localSeconds.toFixed(0)} s (2 threads), on this machine`, 'phase     tasks  GETs/task  KB in/task  PUTs/task  KB out/task'];
    for (const [kind, p] of perPhase) lines.push(`${kind.padEnd(8)} ${String(p.tasks).padStart(6)} ${(p.gets / p.tasks).toFixed(1).padStart(10)} ${(p.bytesIn / p.tasks / 1024).toFixed(1).padStart(11)} ${(p.puts / p.tasks).toFixed(1).padStart(10)} ${(p.bytesOut / p.tasks / 1024).toFixed(1).padStart(12)}`);
    process.stderr.write(lines.join('\n') + '\n');
    assert.ok(perPhase.get('process')!.puts > 0 && perPhase.get('reduce')!.gets > 0, 'tasks stored and fetched through the bucket');
  } finally {
    for (const w of workers) if (w.proc.exitCode === null) w.proc.kill('SIGKILL');
    proxy.server.close();
    redisProc.kill('SIGTERM');
  }
});
