/**
 * Uncertainty sampling for the labeller (`classify label --select uncertain`): of a seeded
 * candidate pool, the documents on which the current model is least sure, stratified like the
 * random sample, so that each labelling round spends the LLM on what moves the model most
 * (Lewis & Gale 1994). Least sure: a binary model's probability nearest its threshold, a
 * multi-class model's smallest margin between its two best classes, a regression's score nearest
 * its threshold.
 */
import type { Doc } from '../../pipeline/doc.ts';
import type { TextScorer } from '../scorer.ts';
import { equalShares } from './sample.ts';
import { at } from '../../pipeline/checked-index.ts';

/** How sure the model is of each text: the smaller, the less sure. */
export async function certainty(scorer: TextScorer, texts: readonly string[]): Promise<number[]> {
  const { card } = scorer;
  const k = scorer.outputs;
  const scores = await scorer.score(texts);
  return texts.map((_, r) => {
    const row = Array.from(scores.subarray(r * k, r * k + k));
    if (card.task === 'regression') return Math.abs(at(row, 0) - (card.threshold ?? 3));
    if (card.task === 'binary') {
      const positive = card.labels.indexOf(card.positive_label ?? at(card.labels, 1));
      return Math.abs(at(row, positive) - (card.threshold ?? 0.5));
    }
    const [a, b] = [...row].sort((x, y) => y - x);
    return a! - (b ?? 0);
  });
}

/**
 * The `n` least certain of `candidates` (in their given order, the sample's), equal shares per
 * stratum of `stratifyBy` as the random sample has them; ties keep the candidates' order.
 */
export function leastCertain(candidates: readonly Doc[], certainties: readonly number[], n: number, stratifyBy?: string): Doc[] {
  const strata = new Map<string, number[]>();
  candidates.forEach((doc, i) => {
    const name = stratifyBy === undefined ? '' : String(doc.meta[stratifyBy] ?? '(none)');
    const list = strata.get(name) ?? [];
    list.push(i);
    strata.set(name, list);
  });
  const names = [...strata.keys()].sort();
  const quota = equalShares(n, names.map((name) => strata.get(name)!.length));
  const chosen: number[] = [];
  names.forEach((name, s) => {
    const ranked = [...(strata.get(name) ?? [])].sort((a, b) => at(certainties, a) - at(certainties, b) || a - b);
    chosen.push(...ranked.slice(0, quota[s]));
  });
  return chosen.sort((a, b) => a - b).map((i) => at(candidates, i));
}
