/**
 * Secrets stay out of Redis too (issue 24, item 7): the failure message BullMQ stores for a failed
 * task (what `refinery status` shows, from any machine) has the worker's secrets replaced, as its
 * printed output has. Real Redis (127.0.0.1:6379, keys of a prefix of this test, deleted after).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { TEST_REDIS } from './redis-fixture.ts';
import { loadPipelineFile } from '../pipeline/config.ts';
import { RunQueue } from '../pipeline/queue/run-queue.ts';
import { submitRun } from '../pipeline/queue/submit.ts';
import { runStatus } from '../pipeline/queue/status.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';

registerBuiltinStages();
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const REDIS = TEST_REDIS;
const prefix = `{queue-secrets-${process.pid}}`;
const SECRET = 'tok-9f8e7d6c5b4a3f2e1d0c';
const children: ChildProcess[] = [];

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

test('the failure message stored in Redis for a failed task has the worker\'s secrets replaced', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-queue-secrets-'));
  // A document whose id happens to be the worker's secret key: the deliberate failure names it.
  await writeFile(join(dir, 'in.jsonl'), `${JSON.stringify({ id: SECRET, text: 'ordinary words' })}\n`);
  const plugin = join(ROOT, 'tests', 'fixtures', 'queue', 'test-stages.ts');
  await writeFile(join(dir, 'p.yaml'), `inputs: in.jsonl\noutput: out\nplugins: [${JSON.stringify(plugin)}]\nstages:\n  - stage: sleepy\n    options: { fail_ids: [${JSON.stringify(SECRET)}] }\n`);
  const t = { redis: REDIS, queue: 'runs', prefix, cluster: false };
  const rq = RunQueue.open(t);
  try {
    const { run } = await submitRun(rq, await loadPipelineFile(join(dir, 'p.yaml')), { force: true, retry: { attempts: 1, backoff: 100 }, report: false });
    const worker = spawn(process.execPath, [join(ROOT, 'bin', 'refinery.mjs'), 'worker', '--redis', REDIS, '--queue', 'runs', '--prefix', prefix, '-c', '1'], { cwd: dir, env: { ...process.env, AWS_SECRET_ACCESS_KEY: SECRET }, stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(worker);
    let log = '';
    worker.stderr!.on('data', (b: Buffer) => (log += b.toString()));
    let status = await runStatus(rq, (await rq.records.get(run))!);
    for (let i = 0; status.state !== 'failed'; i++) {
      assert.ok(i < 600 && status.state !== 'completed', `the run fails\n${log}`);
      await sleep(100);
      status = await runStatus(rq, (await rq.records.get(run))!);
    }
    const stored = status.failures[0]!.error;
    assert.match(stored, /deliberate failure of the task holding/);
    assert.ok(!stored.includes(SECRET), `stored in Redis: ${stored}`);
    assert.ok(!log.includes(SECRET), 'nor printed');
  } finally {
    await rq.close();
  }
});
