/**
 * How far the classifiers of an ensemble agree, on a sample of documents scored by at least two
 * of them: for each pair, Spearman's rank correlation of their scores, the share of documents put
 * in the same percentile bin and within one bin; for each model, the share of documents whose
 * ensemble bin (the maximum) it alone set. A pair that disagrees much is what an ensemble adds
 * over either model; a model that never sets the maximum adds nothing.
 */
import { at } from '../../pipeline/checked-index.ts';

export interface PairAgreement {
  models: [string, string];
  docs: number;
  spearman: number | null;
  same_bin: number | null;
  within_one_bin: number | null;
}

export interface ModelShare {
  model: string;
  scored: number;
  /** Documents whose maximum bin no other model reached. */
  sets_max_alone: number;
}

/** Average ranks (ties share their mean rank), 1-based. */
function ranks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((a, b) => at(values, a) - at(values, b) || a - b);
  const out = new Array<number>(values.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && at(values, at(order, j + 1)) === at(values, at(order, i))) j++;
    for (let k = i; k <= j; k++) out[at(order, k)] = (i + j) / 2 + 1;
    i = j + 1;
  }
  return out;
}

export function spearman(a: readonly number[], b: readonly number[]): number | null {
  if (a.length < 2) return null;
  const ra = ranks(a);
  const rb = ranks(b);
  const mean = (ra.length + 1) / 2;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < ra.length; i++) {
    const da = at(ra, i) - mean;
    const db = at(rb, i) - mean;
    sab += da * db;
    saa += da ** 2;
    sbb += db ** 2;
  }
  return saa === 0 || sbb === 0 ? null : sab / Math.sqrt(saa * sbb);
}

const round4 = (x: number | null): number | null => (x === null ? null : Math.round(x * 1e4) / 1e4);

/** `scores[d][m]` and `bins[d][m]`: document d's score and bin from model m, null where unscored. */
export function agreement(models: readonly string[], scores: readonly (number | null)[][], bins: readonly (number | null)[][]): { pairs: PairAgreement[]; models: ModelShare[] } {
  const pairs: PairAgreement[] = [];
  for (let x = 0; x < models.length; x++) {
    for (let y = x + 1; y < models.length; y++) {
      const a: number[] = [];
      const b: number[] = [];
      let same = 0;
      let near = 0;
      scores.forEach((row, d) => {
        const [sa, sb, ba, bb] = [row[x], row[y], at(bins, d)[x], at(bins, d)[y]];
        if (sa == null || sb == null || ba == null || bb == null) return;
        a.push(sa);
        b.push(sb);
        if (ba === bb) same++;
        if (Math.abs(ba - bb) <= 1) near++;
      });
      const n = a.length;
      pairs.push({ models: [at(models, x), at(models, y)], docs: n, spearman: round4(spearman(a, b)), same_bin: n ? round4(same / n) : null, within_one_bin: n ? round4(near / n) : null });
    }
  }
  const shares = models.map((model, m): ModelShare => {
    let scored = 0;
    let alone = 0;
    for (const row of bins) {
      const mine = row[m];
      if (mine == null) continue;
      scored++;
      if (row.every((other, o) => o === m || other == null || other < mine)) alone++;
    }
    return { model, scored, sets_max_alone: alone };
  });
  return { pairs, models: shares };
}
