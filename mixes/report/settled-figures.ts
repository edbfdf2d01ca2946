/** What the report's sections read of a settled document: its group labels, tokens and measurements, and a mergeable sample. */
import { unitHash } from '../../pipeline/hash.ts';
import type { Doc } from '../../pipeline/doc.ts';
import { estimateTokens } from '../census.ts';
import { isScoreField } from './measures.ts';

/** A group label from meta (`source`, `language`): the string, else `unknown`. */
export const label = (v: unknown): string => (typeof v === 'string' && v !== '' ? v : 'unknown');

let lastDoc: Doc | null = null;
let lastTokens = 0;

/**
 * `meta.num_tokens` when the run counted them, else UTF-8 bytes / 4. The sections ask for the same
 * document one after another, so the last answer is kept.
 */
export function tokensOf(doc: Doc): number {
  if (doc !== lastDoc) {
    lastTokens = typeof doc.meta.num_tokens === 'number' ? doc.meta.num_tokens : estimateTokens(doc.text);
    lastDoc = doc;
  }
  return lastTokens;
}

/** The meta key a stage records its measurements under: `gopher-quality` → `gopher_quality`. */
export function stageMetaKey(stage: string): string {
  return stage.replace(/-/g, '_');
}

/** isScoreField per meta key, remembered: the same few keys come with every document. */
const scoreKeys = new Map<string, boolean>();
const scoreKey = (k: string): boolean => {
  let is = scoreKeys.get(k);
  if (is === undefined) scoreKeys.set(k, (is = isScoreField(k)));
  return is;
};

/**
 * Each numeric measurement of a document, handed to `f`: top-level scores and `num_tokens`, and
 * the numbers a stage wrote in its own meta object (`gopher_quality.words`, named by `fieldOf`).
 */
export function forEachMeasurement(meta: Record<string, unknown>, stageKeys: ReadonlySet<string>, f: (field: string, value: number) => void): void {
  for (const k in meta) {
    const v = meta[k];
    if (typeof v === 'number') {
      if (Number.isFinite(v) && (k === 'num_tokens' || scoreKey(k))) f(k, v);
    } else if (v !== null && typeof v === 'object' && !Array.isArray(v) && stageKeys.has(k)) {
      const own = v as Record<string, unknown>;
      // `threshold` beside a value (token-outlier) is the rule's limit, not a measurement.
      for (const k2 in own) {
        const v2 = own[k2];
        if (typeof v2 === 'number' && Number.isFinite(v2) && k2 !== 'threshold') f(fieldOf(k, k2), v2);
      }
    }
  }
}

/** `stage_key.name`, built once per pair. */
const fieldNames = new Map<string, Map<string, string>>();
function fieldOf(stageKey: string, name: string): string {
  let names = fieldNames.get(stageKey);
  if (!names) fieldNames.set(stageKey, (names = new Map()));
  let field = names.get(name);
  if (field === undefined) names.set(name, (field = `${stageKey}.${name}`));
  return field;
}

/** Score fields of a document, handed to `f`: numeric score fields at the top of meta, and each entry of a `scores` object. */
export function forEachScore(meta: Record<string, unknown>, f: (field: string, value: number) => void): void {
  for (const k in meta) {
    const v = meta[k];
    if (typeof v === 'number') {
      if (Number.isFinite(v) && scoreKey(k)) f(k, v);
    } else if (k === 'scores' && v !== null && typeof v === 'object' && !Array.isArray(v)) {
      const scores = v as Record<string, unknown>;
      for (const k2 in scores) {
        const v2 = scores[k2];
        if (typeof v2 === 'number' && Number.isFinite(v2)) f(fieldOf('scores', k2), v2);
      }
    }
  }
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
