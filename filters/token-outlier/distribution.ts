/**
 * Word distributions and the KL divergence of a document from a corpus reference (Llama 3 §3.1.1:
 * "token-distribution Kullback-Leibler divergence to filter out documents containing excessive
 * numbers of outlier tokens compared to the training corpus distribution").
 *
 * Words are lower-cased and numbered (`Vocabulary`); a document is a `Bag` of word ids with their
 * counts, in order of first occurrence, and corpus counts are a typed array indexed by id, instead
 * of string-keyed Maps (a Map per document, merged into a Map per language), which cost more CPU
 * to fill and to merge; bench/token-outlier-phases.ts measures map and reduce.
 */

/** Lower-cased words numbered in order of first appearance. */
export class Vocabulary {
  readonly words: string[] = [];
  /** lower-cased word → id, and every other spelling met ("The", "THE") → the id of its lower case */
  private readonly ids = new Map<string, number>();

  /** The id of `word` lower-cased, numbering it if new. */
  idOf(word: string): number {
    const id = this.ids.get(word);
    return id !== undefined ? id : this.add(word);
  }

  /** The id of `word` lower-cased, or -1. */
  find(word: string): number {
    const id = this.ids.get(word);
    if (id !== undefined) return id;
    const lower = word.toLowerCase();
    return lower === word ? -1 : (this.ids.get(lower) ?? -1);
  }

  get size(): number {
    return this.words.length;
  }

  private add(word: string): number {
    // toLowerCase is idempotent (checked on every code point), so a stored lower-case form is its own key.
    const lower = word.toLowerCase();
    let id = lower === word ? undefined : this.ids.get(lower);
    if (id === undefined) {
      id = this.words.length;
      this.words.push(lower);
      this.ids.set(lower, id);
    }
    if (lower !== word) this.ids.set(word, id);
    return id;
  }
}

/** A document's distinct word ids in order of first occurrence, and how often each occurs. */
export interface Bag {
  ids: Int32Array;
  counts: Int32Array;
}

function grown(a: Int32Array, min: number): Int32Array {
  const b = new Int32Array(Math.max(min, 2 * a.length));
  b.set(a);
  return b;
}

/** Counts documents' words by id in one scratch array reused from document to document. */
export class BagCounter {
  private seen: Int32Array = new Int32Array(1 << 12);
  private order: Int32Array = new Int32Array(1 << 10);

  /** The bag of `words`, each numbered by `idOf` (ids are non-negative). */
  bagOf(words: readonly string[], idOf: (word: string) => number): Bag {
    let distinct = 0;
    for (let i = 0; i < words.length; i++) {
      const id = idOf(words[i]!);
      if (id >= this.seen.length) this.seen = grown(this.seen, id + 1);
      if (this.seen[id]!++ === 0) {
        if (distinct === this.order.length) this.order = grown(this.order, distinct + 1);
        this.order[distinct++] = id;
      }
    }
    const ids = this.order.slice(0, distinct);
    const counts = new Int32Array(distinct);
    for (let i = 0; i < distinct; i++) {
      const id = ids[i]!;
      counts[i] = this.seen[id]!;
      this.seen[id] = 0;
    }
    return { ids, counts };
  }
}

/** Word counts indexed by word id, growing as ids come. */
export class Tally {
  /** may be shorter than the vocabulary: words past its end have count 0 */
  counts: Float64Array = new Float64Array(1 << 12);

  add(id: number, count: number): void {
    if (id >= this.counts.length) {
      const b = new Float64Array(Math.max(id + 1, 2 * this.counts.length));
      b.set(this.counts);
      this.counts = b;
    }
    this.counts[id]! += count;
  }

  addBag(bag: Bag): void {
    for (let i = 0; i < bag.ids.length; i++) this.add(bag.ids[i]!, bag.counts[i]!);
  }
}

/**
 * The ids of the `n` most frequent words (ties broken by the word), most frequent first. Sorts only
 * the words at or above the n-th largest count, not every word of the tally.
 */
export function topWords(tally: Tally, words: readonly string[], n: number): number[] {
  const counts = tally.counts.subarray(0, words.length);
  const sorted = Float64Array.from(counts).sort();
  const cutoff = Math.max(1, n > 0 && n <= sorted.length ? sorted[sorted.length - n]! : 1);
  const ids: number[] = [];
  for (let id = 0; id < counts.length; id++) if (counts[id]! >= cutoff) ids.push(id);
  ids.sort((a, b) => counts[b]! - counts[a]! || (words[a]! < words[b]! ? -1 : 1));
  return ids.slice(0, n);
}

/**
 * A reference distribution over a vocabulary plus one bucket for every other word: the log
 * probability of word id `i` is `logProb[i]` (NaN outside the vocabulary), of the bucket `logProbOov`.
 */
export interface Reference {
  /** vocabulary word ids, most frequent first */
  vocab: number[];
  logProb: Float64Array;
  logProbOov: number;
}

/**
 * Build the reference from corpus counts: the `vocabSize` most frequent words keep their own
 * probability, the rest share one bucket; add-`alpha` smoothing keeps every probability above 0.
 */
export function buildReference(tally: Tally, words: readonly string[], vocabSize: number, alpha = 1): Reference {
  const vocab = topWords(tally, words, vocabSize);
  let total = 0;
  for (let id = 0; id < Math.min(words.length, tally.counts.length); id++) total += tally.counts[id]!;
  let inVocab = 0;
  for (const id of vocab) inVocab += tally.counts[id]!;
  const denom = total + alpha * (vocab.length + 1);
  const logProb = new Float64Array(words.length).fill(NaN);
  for (const id of vocab) logProb[id] = Math.log((tally.counts[id]! + alpha) / denom);
  return { vocab, logProb, logProbOov: Math.log((total - inVocab + alpha) / denom) };
}

/**
 * KL(doc ‖ reference) in nats over the document's words, out-of-vocabulary words (ids whose
 * `logProb` is NaN or missing) pooled in one bucket. The terms are summed in the bag's order.
 */
export function klDivergence(bag: Bag, logProb: Float64Array, logProbOov: number): number {
  let n = 0;
  for (let i = 0; i < bag.counts.length; i++) n += bag.counts[i]!;
  if (n === 0) return 0;
  let kl = 0;
  let oov = 0;
  for (let i = 0; i < bag.ids.length; i++) {
    const c = bag.counts[i]!;
    const lq = logProb[bag.ids[i]!];
    if (lq === undefined || Number.isNaN(lq)) {
      oov += c;
      continue;
    }
    const p = c / n;
    kl += p * (Math.log(p) - lq);
  }
  if (oov > 0) {
    const p = oov / n;
    kl += p * (Math.log(p) - logProbOov);
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
