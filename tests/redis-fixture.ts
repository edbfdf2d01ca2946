/**
 * Redis for the tests: the shared server named by REFINERY_TEST_REDIS (or REDIS_URL), by default
 * redis://127.0.0.1:6379; keys of a test's own prefixes deleted after it; and a private
 * redis-server on a free port, for tests that stop and restart Redis.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

export const TEST_REDIS = process.env.REFINERY_TEST_REDIS ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Deletes every key under each `prefix:` on `url` (SCAN, not KEYS, so a shared server is not blocked). */
export async function deletePrefixes(prefixes: Iterable<string>, url = TEST_REDIS): Promise<void> {
  const redis = new Redis(url);
  try {
    for (const p of prefixes) {
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${p}:*`, 'COUNT', 1000);
        cursor = next;
        if (batch.length) await redis.del(...batch);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}

/** A TCP port nothing listens on right now. */
export async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as { port: number }).port;
  await new Promise((r) => srv.close(r));
  return port;
}

/**
 * A private redis-server on 127.0.0.1:`port`, keeping its data in `dataDir` (saved on
 * `SHUTDOWN SAVE`, loaded on start); resolves once it answers PING, within `timeoutMs`.
 */
export async function startRedis(port: number, dataDir: string, timeoutMs = 10_000): Promise<ChildProcess> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dataDir], { stdio: 'ignore' });
  const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => 100, maxRetriesPerRequest: null });
  probe.on('error', () => {});
  try {
    const end = Date.now() + timeoutMs;
    while ((await probe.ping().catch(() => null)) !== 'PONG') {
      if (Date.now() > end || proc.exitCode !== null) {
        proc.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not answer within ${timeoutMs} ms (is redis-server installed?)`);
      }
      await sleep(100);
    }
  } finally {
    probe.disconnect();
  }
  return proc;
}
