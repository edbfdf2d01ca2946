/** The command-line options that name a queue (`--redis`, `--queue`, `--prefix`, `--cluster`) and how long to wait for it. */
import type { Command } from 'commander';
import { finiteNumber } from '../cli/arguments.ts';
import { DEFAULT_PREFIX, DEFAULT_QUEUE, type QueueTarget } from './connection.ts';

export interface TargetOptions {
  redis: string;
  queue: string;
  prefix: string;
  cluster: boolean;
}

export function withTarget(cmd: Command): Command {
  return cmd
    .requiredOption('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379 (with --cluster: comma-separated seed nodes)')
    .option('--queue <name>', 'queue name', DEFAULT_QUEUE)
    .option('--prefix <prefix>', 'key prefix; keep a {hash tag} for Redis Cluster', DEFAULT_PREFIX)
    .option('--cluster', 'connect to a Redis Cluster', false);
}

/** `--timeout`: how long the commands wait for Redis before giving up (the worker waits for ever). */
const TIMEOUT_DEFAULT_SECONDS = 10;
export const timeoutOption = ['--timeout <s>', 'seconds to wait for Redis to answer before giving up with exit code 1', finiteNumber(0), TIMEOUT_DEFAULT_SECONDS] as const;

export const targetOf = (o: TargetOptions): QueueTarget => ({ redis: o.redis, queue: o.queue, prefix: o.prefix, cluster: o.cluster });

/** The options naming this queue, as one would type them again. */
export function targetArgs(o: TargetOptions): string {
  const args = [`--redis ${o.redis}`];
  if (o.queue !== DEFAULT_QUEUE) args.push(`--queue ${o.queue}`);
  if (o.prefix !== DEFAULT_PREFIX) args.push(`--prefix '${o.prefix}'`);
  if (o.cluster) args.push('--cluster');
  return args.join(' ');
}
