/** Parsers for command-line values, shared by every command: each error says what was expected. */
import { InvalidArgumentError, type Command } from 'commander';

export function wholeNumber(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected a whole number of ${min} or more`);
    return n;
  };
}

export const positiveInt = wholeNumber(1);

export function finiteNumber(min = -Infinity): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) throw new InvalidArgumentError(min === -Infinity ? 'expected a number' : `expected a number of ${min} or more`);
    return n;
  };
}

/** A share in (0, 1], e.g. `--sample 0.1`. */
export function fraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n > 1) throw new InvalidArgumentError('expected a share of the documents above 0 and at most 1, e.g. 0.1');
  return n;
}

/** The values of the trial-run flags that `addTrialFlags` adds. */
export interface TrialFlags {
  limit?: number;
  sample?: number;
  dryRun: boolean;
}

/** `--limit`, `--sample` and `--dry-run`, the same on every command that runs a pipeline. */
export function addTrialFlags(cmd: Command): Command {
  return cmd
    .option('--limit <n>', 'trial run: read only the first N records of each input shard', positiveInt)
    .option('--sample <fraction>', 'trial run: read only this seeded share of the documents (by the hash of the id with the seed)', fraction)
    .option('--dry-run', 'print the inputs, shards, phases and task counts, then stop without writing anything', false);
}

/** The config overrides of the trial flags (only those given). */
export function trialOverrides(o: TrialFlags): { limit?: number; sample?: number } {
  return { ...(o.limit !== undefined ? { limit: o.limit } : {}), ...(o.sample !== undefined ? { sample: o.sample } : {}) };
}
