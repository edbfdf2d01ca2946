/**
 * Word distributions and the KL divergence of a document from a corpus reference (Llama 3 §3.1.1:
 * "token-distribution Kullback-Leibler divergence to filter out documents containing excessive
 * numbers of outlier tokens compared to the training corpus distribution").
 */

export type WordCounts = Map<string, number>;

export function countWords(words: readonly string[], into: WordCounts = new Map()): WordCounts {
  for (const w of words) {
    const k = w.toLowerCase();
    into.set(k, (into.get(k) ?? 0) + 1);
  }
  return into;
}

export function mergeCounts(into: WordCounts, from: Iterable<[string, number]>): void {
  for (const [w, c] of from) into.set(w, (into.get(w) ?? 0) + c);
}

/** The `n` most frequent words (ties broken by the word), as sorted pairs. */
export function topWords(counts: WordCounts, n: number): [string, number][] {
  return [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, n);
}

/** A reference distribution over a vocabulary plus one bucket for every other word. */
export interface Reference {
  /** log probability of each vocabulary word */
  logProb: Map<string, number>;
  /** log probability of the out-of-vocabulary bucket */
  logProbOov: number;
}

/**
 * Build the reference from corpus counts: the `vocabSize` most frequent words keep their own
 * probability, the rest share one bucket; add-`alpha` smoothing keeps every probability above 0.
 */
export function buildReference(counts: WordCounts, vocabSize: number, alpha = 1): Reference {
  const top = topWords(counts, vocabSize);
  let total = 0;
  for (const c of counts.values()) total += c;
  let inVocab = 0;
  for (const [, c] of top) inVocab += c;
  const denom = total + alpha * (top.length + 1);
  const logProb = new Map<string, number>();
  for (const [w, c] of top) logProb.set(w, Math.log((c + alpha) / denom));
  return { logProb, logProbOov: Math.log((total - inVocab + alpha) / denom) };
}

/** KL(doc ‖ reference) in nats, over the document's words (out-of-vocabulary words pooled). */
export function klDivergence(docCounts: WordCounts, ref: Reference): number {
  let n = 0;
  for (const c of docCounts.values()) n += c;
  if (n === 0) return 0;
  let kl = 0;
  let oov = 0;
  for (const [w, c] of docCounts) {
    const lq = ref.logProb.get(w);
    if (lq === undefined) {
      oov += c;
      continue;
    }
    const p = c / n;
    kl += p * (Math.log(p) - lq);
  }
  if (oov > 0) {
    const p = oov / n;
    kl += p * (Math.log(p) - ref.logProbOov);
  }
  return kl;
}

/** The q-quantile of `values` by linear interpolation between order statistics. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}
