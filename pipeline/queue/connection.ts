/** Where a queue lives: Redis (standalone or Cluster), key prefix and queue name. */
import { Cluster, Redis } from 'ioredis';
import { RefineryError } from '../errors.ts';

export interface QueueTarget {
  /** `redis://[user:password@]host:port[/db]`; for a Cluster, comma-separated seed nodes. */
  redis: string;
  queue: string;
  /**
   * Prefix of every key. The default `{refinery}` is a Redis Cluster hash tag: all keys of the
   * queue hash to one slot, which BullMQ's multi-key Lua scripts require on a Cluster.
   */
  prefix: string;
  cluster: boolean;
}

export const DEFAULT_QUEUE = 'refinery';
export const DEFAULT_PREFIX = '{refinery}';

export type RedisClient = Redis | Cluster;

function parseUrl(url: string): URL {
  try {
    const u = new URL(url);
    if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new Error('scheme');
    return u;
  } catch {
    throw new RefineryError(`--redis: "${url}" is not a redis:// or rediss:// URL`);
  }
}

/**
 * Opens a connection. `maxRetriesPerRequest: null` (which BullMQ workers require) makes commands
 * wait while Redis is away instead of failing, so a Redis restart only pauses the workers.
 */
export function connectRedis(target: QueueTarget): RedisClient {
  const client = openClient(target);
  // ioredis reconnects by itself; without a listener each failed attempt would print a stack trace.
  client.on('error', () => {});
  return client;
}

function openClient(target: QueueTarget): RedisClient {
  const urls = target.redis.split(',').map((s) => s.trim()).filter(Boolean).map(parseUrl);
  if (urls.length === 0) throw new RefineryError('--redis: no URL given');
  if (!target.cluster) {
    if (urls.length > 1) throw new RefineryError('--redis: several URLs are only meaningful with --cluster');
    return new Redis(urls[0]!.href, { maxRetriesPerRequest: null });
  }
  const first = urls[0]!;
  return new Cluster(
    urls.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })),
    {
      redisOptions: {
        maxRetriesPerRequest: null,
        ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
        ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
        ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    },
  );
}
