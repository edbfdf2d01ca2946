/**
 * Trial runs: `limit` (the first N records of each input shard) and `sample` (a seeded share of
 * the documents). They act where a reader feeds the first segment, so a record they leave out is
 * never read into the run: it is in none of kept/, rejected/, errors/ or stats.json.
 */
import { unitHash } from '../hash.ts';
import type { ReadItem } from '../io/read-item.ts';

export interface TrialOptions {
  /** Read at most this many records (documents and unreadable records) of each shard. */
  limit?: number;
  /** Keep a record when the seeded hash of its id falls below this share (0 < sample ≤ 1). */
  sample?: number;
  seed: number;
}

/**
 * Whether a document id is in the run's sample: a pure function of (seed, id), so the same
 * documents are chosen whatever the workers, shards or order. Salted so that it draws
 * independently of the mix sampler, which hashes with the same seed.
 */
export function inSample(id: string, seed: number, fraction: number): boolean {
  return fraction >= 1 || unitHash(seed, `trial-sample\u0000${id}`) < fraction;
}

/**
 * The items of one shard that a trial run reads: the sample first, then the first `limit` of what
 * it chose. An unreadable record without an id is sampled by the id a document at its place would
 * have had (`<idPrefix>:<line or record>`).
 */
export async function* trialItems(items: AsyncIterable<ReadItem>, trial: TrialOptions, idPrefix: string): AsyncGenerator<ReadItem> {
  if (trial.limit === undefined && trial.sample === undefined) {
    yield* items;
    return;
  }
  let taken = 0;
  if (trial.limit !== undefined && trial.limit <= 0) return;
  for await (const item of items) {
    if (trial.sample !== undefined) {
      const id = item.kind === 'doc' ? item.doc.id : (item.id ?? `${idPrefix}:${item.where.line ?? item.where.record ?? item.where.offset ?? 0}`);
      if (!inSample(id, trial.seed, trial.sample)) continue;
    }
    yield item;
    if (trial.limit !== undefined && ++taken >= trial.limit) return;
  }
}
