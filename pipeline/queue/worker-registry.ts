/**
 * Who works on a queue: each `refinery worker` keeps a record in Redis (its host, pid, threads and
 * the tasks it holds) and renews it at every heartbeat. A worker that stops cleanly deletes its
 * record; a killed one leaves it behind, so that `refinery workers` and `refinery status` can say
 * which tasks it held (orphaned) until another worker takes them. Ages are measured against the
 * Redis server's clock, so that machines whose clocks differ agree on them.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { QueueTarget, RedisClient } from './connection.ts';

/** One task a worker holds. */
export interface HeldTask {
  run: string;
  task: string;
  /** BullMQ job id (`<run>.<task>`). */
  job: string;
  /** When the worker started it (ms, Redis clock). */
  since: number;
}

export interface WorkerRecord {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  startedAt: number;
  /** Last heartbeat (ms, Redis clock). */
  seenAt: number;
  /** How often the worker renews its record; a record older than LOST_AFTER_BEATS of these is a lost worker's. */
  heartbeatMs: number;
  tasks: HeldTask[];
}

/** Heartbeats a worker may miss before it counts as lost (its process killed, its machine gone). */
export const LOST_AFTER_BEATS = 3;

/** A lost worker's record is kept this long after its last heartbeat (it names the tasks it held), then Redis drops it. */
const RECORD_TTL_SECONDS = 24 * 3600;

export const isLost = (w: WorkerRecord, now: number): boolean => now - w.seenAt > LOST_AFTER_BEATS * w.heartbeatMs;

const prefixOf = (target: QueueTarget) => `${target.prefix}:${target.queue}:workers:`;

/** The Redis server's clock, in ms. */
export async function redisNow(client: RedisClient): Promise<number> {
  const [s, us] = await client.time();
  return Number(s) * 1000 + Math.floor(Number(us) / 1000);
}

/** Every worker record of the queue, lost workers' included, oldest first. */
export async function listWorkers(client: RedisClient, target: QueueTarget): Promise<WorkerRecord[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', `${prefixOf(target)}*`, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  const records: WorkerRecord[] = [];
  for (const key of keys) {
    const h = await client.hgetall(key);
    if (!h.host) continue;
    records.push({
      id: key.slice(prefixOf(target).length),
      host: h.host,
      pid: Number(h.pid),
      concurrency: Number(h.concurrency),
      startedAt: Number(h.started_at),
      seenAt: Number(h.seen_at),
      heartbeatMs: Number(h.heartbeat_ms),
      tasks: JSON.parse(h.tasks ?? '[]') as HeldTask[],
    });
  }
  return records.sort((a, b) => a.startedAt - b.startedAt || a.id.localeCompare(b.id));
}

/** This process's record: the tasks it holds, renewed by `beat`. */
export class WorkerPresence {
  readonly id = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  private readonly held = new Map<string, HeldTask>();
  private readonly key: string;
  private startedAt = 0;

  constructor(
    private readonly client: RedisClient,
    target: QueueTarget,
    private readonly concurrency: number,
    readonly heartbeatMs: number,
  ) {
    this.key = `${prefixOf(target)}${this.id}`;
  }

  /** Writes the record with the tasks held now; called at every heartbeat and when a task starts or ends. */
  async beat(): Promise<void> {
    const now = await redisNow(this.client);
    if (!this.startedAt) this.startedAt = now;
    await this.client
      .multi()
      .hset(this.key, {
        host: hostname(),
        pid: process.pid,
        concurrency: this.concurrency,
        started_at: this.startedAt,
        seen_at: now,
        heartbeat_ms: this.heartbeatMs,
        tasks: JSON.stringify([...this.held.values()]),
      })
      .expire(this.key, RECORD_TTL_SECONDS)
      .exec();
  }

  async taken(run: string, task: string, job: string): Promise<void> {
    this.held.set(job, { run, task, job, since: await redisNow(this.client) });
    await this.beat();
  }

  async released(job: string): Promise<void> {
    if (!this.held.delete(job)) return;
    await this.beat();
  }

  /** The runs of the tasks held now. */
  runs(): Set<string> {
    return new Set([...this.held.values()].map((t) => t.run));
  }

  /** A clean stop: nothing is held, so there is nothing to remember. */
  async remove(): Promise<void> {
    await this.client.del(this.key);
  }
}
