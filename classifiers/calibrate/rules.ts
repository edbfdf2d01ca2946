/**
 * What `refinery calibrate` derives per language, and from which measured values:
 * - the language-ID threshold, by FineWeb-2's rule (Penedo et al. 2025, §3.2):
 *   τ = max(0.3, min(0.9, median − standard deviation)) of the language's confidence scores;
 * - the thresholds of the filters in THRESHOLD_RULES, by quantile matching (FineWeb-2's
 *   "quantile" method, on the run's own documents instead of reference corpora): a language's
 *   threshold removes the same share of its documents as the English threshold removes of
 *   English documents.
 */
import { at } from '../../pipeline/checked-index.ts';

/** FineWeb-2's LID rule over one language's confidence scores. */
export function lidThreshold(scores: readonly number[]): { median: number; std: number; threshold: number } {
  const sorted = [...scores].sort((a, b) => a - b);
  const n = sorted.length;
  const median = n % 2 ? at(sorted, (n - 1) / 2) : (at(sorted, n / 2 - 1) + at(sorted, n / 2)) / 2;
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  const std = Math.sqrt(sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  return { median, std, threshold: Math.max(0.3, Math.min(0.9, median - std)) };
}

export interface ThresholdRule {
  /** The stage and its option that holds the threshold. */
  stage: string;
  option: string;
  /** The meta path the stage writes the measured value to. */
  field: string;
  /** `min`: values below the threshold are dropped; `max`: values above it. */
  side: 'min' | 'max';
  /** A value equal to the threshold is dropped too (fineweb's `≤` and `≥`). */
  inclusive: boolean;
  /** The option is an integer (a count). */
  integer?: boolean;
}

/** The stages' own comparisons (filters/gopher-quality.ts, filters/fineweb.ts). */
export const THRESHOLD_RULES: readonly ThresholdRule[] = [
  { stage: 'gopher-quality', option: 'min_doc_words', field: 'gopher_quality.words', side: 'min', inclusive: false, integer: true },
  { stage: 'gopher-quality', option: 'min_avg_word_length', field: 'gopher_quality.mean_word_length', side: 'min', inclusive: false },
  { stage: 'gopher-quality', option: 'max_avg_word_length', field: 'gopher_quality.mean_word_length', side: 'max', inclusive: false },
  { stage: 'gopher-quality', option: 'min_alpha_words_ratio', field: 'gopher_quality.alpha_words_ratio', side: 'min', inclusive: false },
  { stage: 'fineweb', option: 'line_punct_thr', field: 'fineweb.line_punct_ratio', side: 'min', inclusive: true },
  { stage: 'fineweb', option: 'short_line_thr', field: 'fineweb.short_line_ratio', side: 'max', inclusive: true },
  { stage: 'fineweb', option: 'char_duplicates_ratio', field: 'fineweb.char_dup_ratio', side: 'max', inclusive: true },
  { stage: 'fineweb', option: 'new_line_ratio', field: 'fineweb.new_line_ratio', side: 'max', inclusive: false },
];

/** Values of one measure, sorted, for counting what a threshold removes. */
export class SortedValues {
  readonly values: Float64Array;

  constructor(values: readonly number[]) {
    this.values = Float64Array.from(values).sort();
  }

  get size(): number {
    return this.values.length;
  }

  /** How many values are below `t` (or at most `t` when `orEqual`). */
  private countBelow(t: number, orEqual: boolean): number {
    let lo = 0;
    let hi = this.values.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const v = at(this.values, mid);
      if (v < t || (orEqual && v === t)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The share of values the rule drops at threshold `t`. */
  removed(rule: ThresholdRule, t: number): number {
    const n = this.values.length;
    if (n === 0) return 0;
    const dropped = rule.side === 'min' ? this.countBelow(t, rule.inclusive) : n - this.countBelow(t, !rule.inclusive);
    return dropped / n;
  }
}

/**
 * The threshold whose removed share of `values` is nearest `share`, among the values themselves,
 * the two just outside them and the default: quantile matching. Of thresholds that remove the
 * same share, the one nearest the default is taken, so that a rule the language's documents never
 * reach keeps its default rather than closing in on them.
 */
export function matchingThreshold(values: SortedValues, rule: ThresholdRule, share: number, fallback: number): number {
  const v = values.values;
  const step = rule.integer ? 1 : 1e-4;
  const candidates = v.length === 0 ? [fallback] : [fallback, at(v, 0) - step, ...v, at(v, v.length - 1) + step];
  let best = fallback;
  let bestGap = Infinity;
  let bestRemoved = Infinity;
  for (const raw of candidates) {
    const t = rule.integer ? Math.round(raw) : Math.round(raw * 1e4) / 1e4;
    const removed = values.removed(rule, t);
    const gap = Math.abs(removed - share);
    const tie = Math.abs(gap - bestGap) <= 1e-12;
    if (gap < bestGap - 1e-12 || (tie && removed < bestRemoved) || (tie && removed === bestRemoved && Math.abs(t - fallback) < Math.abs(best - fallback))) {
      best = t;
      bestGap = gap;
      bestRemoved = removed;
    }
  }
  return best;
}
