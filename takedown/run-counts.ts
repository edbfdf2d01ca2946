/**
 * The counts of a run (stats.json, the token manifest) without removed documents. Each removed
 * record is taken out where the run counted it: the run's totals, the reading step, and every
 * stage from the first to the one it left at (kept: all of them). A document's bytes are taken
 * out as its text is now; where a mapper shortened the text on its way (c4's line removal,
 * line-dedup, pii), the bytes the stages before that mapper counted keep the difference.
 */
import type { RunStats, StageStats } from '../pipeline/stats.ts';
import { bucketId, bucketKeyOf, type BucketCount } from '../mixes/bucket.ts';
import { buildManifest, checkManifestBalance, type TokenizeManifest } from '../mixes/shards/manifest.ts';
import type { ShardFileEntry } from '../mixes/shards/shard-sink.ts';
import type { RecordFacts } from './document-shards.ts';
import type { RemovedRows } from './token-shards.ts';
import { at } from '../pipeline/checked-index.ts';

/** The index of the stage a record left the run at (the number of stages: kept). */
export function exitIndex(stages: StageStats[], r: RecordFacts): number {
  if (r.outcome === 'kept') return stages.length;
  if (r.outcome === 'rejected') {
    const reason = r.reason ?? '';
    const cut = reason.indexOf(':');
    const [name, rule] = cut < 0 ? [reason, reason] : [reason.slice(0, cut), reason.slice(cut + 1)];
    // The same stage may be in a pipeline twice: the first whose count holds the reason.
    const i = stages.findIndex((s) => s.name === name && (s.reasons[rule] ?? 0) > 0);
    return i < 0 ? stages.length : i;
  }
  const i = stages.findIndex((s) => s.name === r.stage && s.errored > 0);
  return i < 0 ? stages.length : i;
}

/** stats.json without the removed records (the value is changed in place and returned). */
export function statsWithout<T extends RunStats>(stats: T, records: readonly RecordFacts[]): T {
  for (const r of records) {
    stats.totals.in--;
    stats.totals[r.outcome]--;
    if (r.outcome === 'errored' && r.stage === 'read') {
      stats.read.errors--;
      continue;
    }
    stats.read.docs--;
    stats.read.bytes -= r.bytes;
    const exit = exitIndex(stats.stages, r);
    for (let i = 0; i < stats.stages.length && i <= exit; i++) {
      const s = at(stats.stages, i);
      s.in--;
      s.bytes_in -= r.bytes;
      if (i < exit) {
        s.kept--;
        s.bytes_out -= r.bytes;
      } else if (r.outcome === 'rejected') {
        s.rejected--;
        const rule = (r.reason ?? '').slice((r.reason ?? '').indexOf(':') + 1);
        const left = (s.reasons[rule] ?? 0) - 1;
        if (left > 0) s.reasons[rule] = left;
        else delete s.reasons[rule];
      } else {
        s.errored--;
      }
    }
  }
  return stats;
}

/**
 * A global stage's statistics (stats/<stage>.json, e.g. a dedup stage's) without the removed
 * records that reached it: its `docs_in`. The rest (clusters, pairs, records) describes the run
 * as it was made.
 */
export function stageStatsWithout(stageStats: Record<string, unknown>, stageIndex: number, stats: RunStats, records: readonly RecordFacts[]): Record<string, unknown> {
  if (typeof stageStats.docs_in !== 'number') return stageStats;
  const reached = records.filter((r) => !(r.outcome === 'errored' && r.stage === 'read') && exitIndex(stats.stages, r) >= stageIndex).length;
  return { ...stageStats, docs_in: stageStats.docs_in - reached };
}

/**
 * The manifest of the token shards after a removal: the rewritten groups' files in place of
 * theirs, the totals added up again, and the removed documents' copies and tokens out of their
 * buckets (a bucket left with no document goes).
 */
export function manifestWithout(manifest: TokenizeManifest, files: ShardFileEntry[], removed: RemovedRows, records: readonly RecordFacts[], where: string): TokenizeManifest {
  const t = manifest.totals;
  let docsIn = t.docs_in;
  let tokensIn = t.tokens_in;
  let docsOut = t.docs_out;
  let tokensOut = t.tokens_out;
  let docsErrored = t.docs_errored;
  const buckets = new Map<string, BucketCount>(manifest.buckets.map((b) => [bucketId(b), { ...b }]));
  const seen = new Set<string>();
  for (const r of records) {
    if (seen.has(r.id)) continue;
    // A document the plan could not place was sent to errors/ by the tokenize stage: it is in no shard.
    if (r.outcome === 'errored' && r.stage === 'tokenize') {
      seen.add(r.id);
      docsErrored--;
      continue;
    }
    if (r.num_tokens === undefined) continue;
    seen.add(r.id);
    const rows = removed[r.id] ?? { copies: 0, tokens: r.num_tokens };
    docsIn--;
    tokensIn -= r.num_tokens;
    docsOut -= rows.copies;
    tokensOut -= rows.copies * rows.tokens;
    const id = bucketId(bucketKeyOf(r.bucket));
    const b = buckets.get(id);
    if (b) {
      b.docs -= rows.copies;
      b.tokens -= rows.copies * rows.tokens;
      if (b.docs <= 0 && b.tokens <= 0) buckets.delete(id);
    }
  }
  const rebuilt = buildManifest(
    [{ files, docs_in: docsIn, docs_out: docsOut, docs_errored: docsErrored, tokens_in: tokensIn, tokens_out: tokensOut, buckets: [...buckets.values()] }],
    { tokenizer: manifest.tokenizer, config_hash: manifest.config_hash, format: manifest.format, shuffle: manifest.shuffle, plan: manifest.plan },
  );
  checkManifestBalance(rebuilt, where);
  return { ...manifest, ...rebuilt };
}
