/**
 * Percentile bins of a score over a corpus (Nemotron-CC, Su et al. 2024, §2.2): each document's
 * score becomes the bin 0 … bins−1 of its percentile rank among every document's score, so that
 * classifiers on different scales (a probability, a 0–5 regression) become comparable and their
 * maximum can be taken. A document's rank is the share of the corpus scored strictly below it,
 * so equal scores share a bin. The histogram is of the values as written in `meta` (rounded to 6
 * or 4 decimals by the quality stage), so its size is bounded by the distinct values, not by the
 * documents.
 */

/** value → documents with that value. */
export type ScoreHistogram = Map<number, number>;

export function addHistogram(into: ScoreHistogram, from: Iterable<[number, number]>): void {
  for (const [value, count] of from) into.set(value, (into.get(value) ?? 0) + count);
}

/** Ascending [value, count] pairs: the form a map task writes. */
export function histogramPairs(h: ScoreHistogram): [number, number][] {
  return [...h].sort((a, b) => a[0] - b[0]);
}

/**
 * Cut points of `bins` bins: cut k−1 is the lowest value whose share of documents strictly below
 * reaches k / bins (null when no value does: that bin is empty). A value's bin is the number of
 * cuts at or below it.
 */
export function percentileCuts(h: ScoreHistogram, bins: number): (number | null)[] {
  const pairs = histogramPairs(h);
  const total = pairs.reduce((s, [, c]) => s + c, 0);
  const cuts: (number | null)[] = new Array<number | null>(bins - 1).fill(null);
  let below = 0;
  let next = 1;
  for (const [value, count] of pairs) {
    const bin = Math.min(bins - 1, Math.floor((bins * below) / total));
    while (next <= bin) cuts[next++ - 1] = value;
    below += count;
  }
  return cuts;
}

export function binOf(value: number, cuts: readonly (number | null)[]): number {
  let bin = 0;
  for (const c of cuts) if (c !== null && value >= c) bin++;
  return bin;
}
