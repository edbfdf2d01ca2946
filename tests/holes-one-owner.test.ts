/**
 * One owner per output (issue 24, item 1): a local run, with or without --force, is refused on an
 * output that a queue run has claimed and not finished, naming the run and how to wait for it; a
 * submit is refused on an output a local run holds. Real Redis (127.0.0.1:6379, keys of a prefix
 * of this test, deleted after).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { TEST_REDIS } from './redis-fixture.ts';
import { prepareConfig } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { RefineryError } from '../pipeline/errors.ts';
import { RunQueue } from '../pipeline/queue/run-queue.ts';
import { submitRun } from '../pipeline/queue/submit.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';

registerBuiltinStages();
const REDIS = TEST_REDIS;
const prefix = `{one-owner-${process.pid}}`;

after(async () => {
  const redis = new Redis(REDIS);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length) await redis.del(...keys);
  redis.disconnect();
});

async function setup(): Promise<{ dir: string; config: Awaited<ReturnType<typeof prepareConfig>> }> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-one-owner-'));
  await writeFile(join(dir, 'in.jsonl'), '{"id":"1","text":"a few words of ordinary text for the run"}\n');
  const config = await prepareConfig({ inputs: ['in.jsonl'], output: 'out', stages: ['c4'] }, { file: join(dir, 'p.yaml'), baseDir: dir });
  return { dir, config };
}

test('a local run is refused, even with --force, on an output a queue run has claimed and not finished', async () => {
  const { dir, config } = await setup();
  const rq = RunQueue.open({ redis: REDIS, queue: 'runs', prefix, cluster: false });
  try {
    const { run } = await submitRun(rq, config, { force: false, retry: { attempts: 1, backoff: 100 }, report: false });
    const record = JSON.parse(await readFile(join(dir, 'out', 'run.json'), 'utf8')) as { queue?: { run: string; queue: string } };
    assert.equal(record.queue?.run, run);
    for (const force of [false, true]) {
      await assert.rejects(runPipeline(config, { quiet: true, force }), (e: unknown) => e instanceof RefineryError && e.message.includes(`belongs to queue run ${run}, which has not finished: wait for it (refinery status ${run} --redis ${REDIS} --queue runs --prefix '${prefix}' --wait)`));
    }
    // Once that run has finished (its stats.json), a local run may take the folder over.
    await writeFile(join(dir, 'out', 'stats.json'), '{}\n');
    const local = await runPipeline(config, { quiet: true, force: true });
    assert.equal(local.stats.totals.in, 1);
  } finally {
    await rq.close();
  }
});

test('a submit is refused on an output a live local run holds', async () => {
  const { dir, config } = await setup();
  await runPipeline(config, { quiet: true });
  await writeFile(join(dir, 'out', 'run.lock'), `${hostname()} ${process.pid}\n`);
  const rq = RunQueue.open({ redis: REDIS, queue: 'runs', prefix, cluster: false });
  try {
    await assert.rejects(submitRun(rq, config, { force: true, retry: { attempts: 1, backoff: 100 }, report: false }), (e: unknown) => e instanceof RefineryError && /is in use by a local refinery run \(.* pid \d+\); wait for it to end, or stop it, before submitting a queue run there/.test(e.message));
  } finally {
    await rq.close();
  }
});
