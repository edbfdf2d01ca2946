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
 * wait while Redis is away instead of failing, so a Redis restart only pauses the workers; a
 * command that must give up uses `waitForRedis` first.
 */
export function connectRedis(target: QueueTarget): RedisClient {
  const client = openClient(target);
  // ioredis reconnects by itself; without a listener each failed attempt would print a stack trace.
  // BullMQ's Queue, FlowProducer and Worker re-emit these errors: RunQueue and QueueWorker listen there.
  client.on('error', () => {});
  return client;
}

const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'ECONNABORTED']);

/** An error that only says Redis cannot be reached (ioredis retries), not that a command went wrong. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const e = err as Error & { code?: unknown; lastNodeError?: unknown };
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (e.name === 'ClusterAllFailedError' || e.name === 'MaxRetriesPerRequestError' || e.name === 'ConnectionClosedError') return true;
  return /Connection is closed|Failed to refresh slots cache|Stream isn't writeable|\b(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EAI_AGAIN)\b/.test(e.message);
}

/** One line for a connection error: its message, and the node's error for a Cluster. */
export function describeRedisError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const last = (err as { lastNodeError?: unknown }).lastNodeError;
  return last instanceof Error && last.message !== err.message ? `${err.message}: ${last.message}` : err.message;
}

/** Waits until the connection is ready; a RefineryError naming the URL and the last error after `seconds`. */
export function waitForRedis(client: RedisClient, target: QueueTarget, seconds: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let last: unknown;
    const onError = (err: unknown) => {
      last = err;
    };
    const done = () => {
      clearTimeout(timer);
      client.off('error', onError);
      client.off('ready', onReady);
    };
    const onReady = () => {
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new RefineryError(`Redis unreachable at ${target.redis}: no connection within ${seconds} s${last ? ` (${describeRedisError(last)})` : ''}`));
    }, seconds * 1000);
    client.on('error', onError);
    client.on('ready', onReady);
  });
}

/** Resolves or rejects as `work` does, or rejects with a RefineryError when Redis does not answer within `seconds`. */
export async function withinTime<T>(work: Promise<T>, target: QueueTarget, seconds: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RefineryError(`Redis at ${target.redis} did not answer within ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Logs one line when Redis becomes unreachable and one when it is back, however many clients
 * (the worker's own, BullMQ's blocking one) report each failed reconnection attempt.
 */
export class RedisOutage {
  private down = false;

  constructor(
    private readonly target: QueueTarget,
    private readonly log: (line: string) => void,
  ) {}

  lost(err: unknown): void {
    if (this.down) return;
    this.down = true;
    this.log(`Redis unreachable at ${this.target.redis} (${describeRedisError(err)}), retrying; tasks in flight go on`);
  }

  back(): void {
    if (!this.down) return;
    this.down = false;
    this.log(`Redis is back at ${this.target.redis}`);
  }
}

/**
 * ioredis keeps a socket that never connected for this long after `disconnect` (its default is
 * 2000 ms, which would hold a worker that stops while Redis is away, and `status` giving up, as long).
 */
const DISCONNECT_TIMEOUT_MS = 200;

function openClient(target: QueueTarget): RedisClient {
  const urls = target.redis.split(',').map((s) => s.trim()).filter(Boolean).map(parseUrl);
  if (urls.length === 0) throw new RefineryError('--redis: no URL given');
  if (!target.cluster) {
    if (urls.length > 1) throw new RefineryError('--redis: several URLs are only meaningful with --cluster');
    return new Redis(urls[0]!.href, { maxRetriesPerRequest: null, disconnectTimeout: DISCONNECT_TIMEOUT_MS });
  }
  const first = urls[0]!;
  return new Cluster(
    urls.map((u) => ({ host: u.hostname, port: Number(u.port || 6379) })),
    {
      redisOptions: {
        maxRetriesPerRequest: null,
        disconnectTimeout: DISCONNECT_TIMEOUT_MS,
        ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
        ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
        ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
      },
    },
  );
}
