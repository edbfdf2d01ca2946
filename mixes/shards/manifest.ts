/**
 * `_manifest.json` beside the token shards: what a trainer and the mix census read. Built in the
 * reduce phase from the per-shard summaries that the map phase leaves in the work folder.
 */
import { bucketKeyOfDoc, compareBuckets, bucketId, type BucketCount } from '../bucket.ts';
import type { Doc } from '../../pipeline/doc.ts';
import { AccountingError } from '../../pipeline/stats.ts';
import type { ShardFileEntry } from './shard-sink.ts';

/** What one map task (one input shard, or one shuffle bucket) produced. */
export interface ShardSummary {
  files: ShardFileEntry[];
  /** Documents tokenized, and rows of documents written (counting plan copies). */
  docs_in: number;
  docs_out: number;
  /** Documents the mix plan had no rate for: in no shard, sent to the error output. */
  docs_errored: number;
  /** Tokens (with BOS/EOS) of the documents read, and of the documents written. */
  tokens_in: number;
  tokens_out: number;
  buckets: BucketCount[];
}

/** Counts documents and tokens per mix bucket (source × category × language × quality band). */
export class BucketTally {
  private readonly rows = new Map<string, BucketCount>();

  add(doc: Doc, docs: number, tokens: number): void {
    const key = bucketKeyOfDoc(doc);
    const id = bucketId(key);
    const row = this.rows.get(id) ?? { ...key, docs: 0, tokens: 0 };
    row.docs += docs;
    row.tokens += tokens;
    this.rows.set(id, row);
  }

  addCounts(rows: readonly BucketCount[]): void {
    for (const r of rows) {
      const id = bucketId(r);
      const row = this.rows.get(id) ?? { source: r.source, category: r.category, language: r.language, quality_band: r.quality_band, docs: 0, tokens: 0 };
      row.docs += r.docs;
      row.tokens += r.tokens;
      this.rows.set(id, row);
    }
  }

  toArray(): BucketCount[] {
    return [...this.rows.values()].sort(compareBuckets);
  }
}

export interface Totals {
  docs: number;
  tokens: number;
}

export interface TokenizeManifest {
  version: 1;
  /** `path`: the tokenizer.json, when the tokenizer is not llama3. */
  tokenizer: { name: string; vocab_size: number; vocabulary_sha256: string; bos_id: number; eos_id: number; path?: string };
  config_hash: string;
  format: { layout: 'documents' | 'packed'; seq_len: number | null; columns: string[] };
  shards: ShardFileEntry[];
  totals: {
    /** What the files hold: rows, documents starting in them (BOS tokens), tokens, partial rows, bytes. */
    rows: number;
    docs: number;
    tokens: number;
    partial_rows: number;
    bytes: number;
    /** What the map phase read and emitted: before the plan (`_in`) and after it (`_out`, = what the files must hold). */
    docs_in: number;
    docs_out: number;
    docs_errored: number;
    tokens_in: number;
    tokens_out: number;
  };
  by_source: Record<string, Totals>;
  by_language: Record<string, Totals>;
  by_category: Record<string, Totals>;
  buckets: BucketCount[];
  shuffle: { seed: number; buckets: number } | null;
  plan: { path: string; sha256: string; seed: number } | null;
}

function totalsBy(buckets: readonly BucketCount[], field: 'source' | 'language' | 'category'): Record<string, Totals> {
  const out: Record<string, Totals> = {};
  for (const b of buckets) {
    const t = (out[b[field]] ??= { docs: 0, tokens: 0 });
    t.docs += b.docs;
    t.tokens += b.tokens;
  }
  return out;
}

export function buildManifest(
  summaries: readonly ShardSummary[],
  head: Pick<TokenizeManifest, 'tokenizer' | 'config_hash' | 'format' | 'shuffle' | 'plan'>,
): TokenizeManifest {
  const tally = new BucketTally();
  const shards: ShardFileEntry[] = [];
  const totals = { rows: 0, docs: 0, tokens: 0, partial_rows: 0, bytes: 0, docs_in: 0, docs_out: 0, docs_errored: 0, tokens_in: 0, tokens_out: 0 };
  for (const s of summaries) {
    tally.addCounts(s.buckets);
    shards.push(...s.files);
    totals.docs_in += s.docs_in;
    totals.docs_out += s.docs_out;
    totals.docs_errored += s.docs_errored;
    totals.tokens_in += s.tokens_in;
    totals.tokens_out += s.tokens_out;
    for (const f of s.files) {
      totals.rows += f.rows;
      totals.docs += f.docs;
      totals.tokens += f.tokens;
      totals.partial_rows += f.partial_rows;
      totals.bytes += f.bytes;
    }
  }
  shards.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const buckets = tally.toArray();
  return {
    version: 1,
    ...head,
    shards,
    totals,
    by_source: totalsBy(buckets, 'source'),
    by_language: totalsBy(buckets, 'language'),
    by_category: totalsBy(buckets, 'category'),
    buckets,
  };
}

/**
 * The manifest balances: every document copy and every token the map phase emitted is in a file
 * (documents counted by their BOS tokens). A mismatch fails the run, as the document accounting does.
 */
export function checkManifestBalance(manifest: Pick<TokenizeManifest, 'totals'>, where: string): void {
  const t = manifest.totals;
  const problems: string[] = [];
  if (t.docs !== t.docs_out) problems.push(`documents: ${t.docs_out} emitted but ${t.docs} in the files`);
  if (t.tokens !== t.tokens_out) problems.push(`tokens: ${t.tokens_out} emitted but ${t.tokens} in the files`);
  if (problems.length) throw new AccountingError(`${where}: tokenized output does not balance:\n  ${problems.join('\n  ')}`);
}
