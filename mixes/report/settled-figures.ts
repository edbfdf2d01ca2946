/** What the report's sections read of a settled document: its group labels, tokens and measurements, and a mergeable sample. */
import { unitHash } from '../../pipeline/hash.ts';
import type { Doc } from '../../pipeline/doc.ts';
import { estimateTokens } from '../census.ts';
import { isScoreField } from './measures.ts';

/** A group label from meta (`source`, `language`): the string, else `unknown`. */
export const label = (v: unknown): string => (typeof v === 'string' && v !== '' ? v : 'unknown');

/** `meta.num_tokens` when the run counted them, else UTF-8 bytes / 4. */
export function tokensOf(doc: Doc): number {
  return typeof doc.meta.num_tokens === 'number' ? doc.meta.num_tokens : estimateTokens(doc.text);
}

/** The meta key a stage records its measurements under: `gopher-quality` → `gopher_quality`. */
export function stageMetaKey(stage: string): string {
  return stage.replace(/-/g, '_');
}

/**
 * Numeric measurements of a document: top-level scores and `num_tokens`, and the numbers a stage
 * wrote in its own meta object (`gopher_quality.words`).
 */
export function measurements(meta: Record<string, unknown>, stageKeys: ReadonlySet<string>): [string, number][] {
  const out: [string, number][] = [];
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v === 'number' && Number.isFinite(v)) {
      if (isScoreField(k) || k === 'num_tokens') out.push([k, v]);
    } else if (stageKeys.has(k) && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      // `threshold` beside a value (token-outlier) is the rule's limit, not a measurement.
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) if (k2 !== 'threshold' && typeof v2 === 'number' && Number.isFinite(v2)) out.push([`${k}.${k2}`, v2]);
    }
  }
  return out;
}

/** Score fields of a document: numeric score fields at the top of meta, and each entry of a `scores` object. */
export function scoreFields(meta: Record<string, unknown>): [string, number][] {
  const out: [string, number][] = [];
  for (const [k, v] of Object.entries(meta)) {
    if (typeof v === 'number' && Number.isFinite(v) && isScoreField(k)) out.push([k, v]);
    else if (k === 'scores' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k2, v2] of Object.entries(v as Record<string, unknown>)) if (typeof v2 === 'number' && Number.isFinite(v2)) out.push([`scores.${k2}`, v2]);
    }
  }
  return out;
}

/** An item of a seeded sample, with its rank: the hash of (seed, its name). */
export interface Ranked<T> {
  rank: number;
  name: string;
  item: T;
}

/** The rank of a name in the run's seeded samples. */
export function rankOf(seed: number, name: string): number {
  return unitHash(seed, name);
}

const byRank = <T>(a: Ranked<T>, b: Ranked<T>) => a.rank - b.rank || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * The `k` items of lowest rank (ties by name): a seeded sample that parts of a run merge into
 * exactly the sample of the whole run, whatever the order of the parts.
 */
export function lowestRanked<T>(items: Ranked<T>[], k: number): Ranked<T>[] {
  return [...items].sort(byRank).slice(0, k);
}

/** A seeded sample of `k` items, built one candidate at a time; an item is made only when it enters. */
export class RankedSample<T> {
  private readonly items: Ranked<T>[] = [];
  constructor(private readonly k: number, private readonly seed: number) {}

  offer(name: string, make: () => T): void {
    const rank = rankOf(this.seed, name);
    const last = this.items[this.items.length - 1];
    if (this.items.length >= this.k && last && byRank({ rank, name, item: null }, last) >= 0) return;
    this.items.push({ rank, name, item: make() });
    this.items.sort(byRank);
    if (this.items.length > this.k) this.items.pop();
  }

  ranked(): Ranked<T>[] {
    return [...this.items];
  }
}
