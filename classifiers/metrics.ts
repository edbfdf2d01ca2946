/**
 * Held-out metrics of a classifier: confusion matrix, per-class precision / recall / F1,
 * accuracy and macro F1; for a binary task the positive class's figures, ROC AUC and the
 * threshold that maximises F1; for regression Pearson and Spearman correlation, MAE and RMSE.
 */

export interface ClassMetrics {
  label: string;
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationMetrics {
  examples: number;
  accuracy: number;
  macro_f1: number;
  per_class: ClassMetrics[];
  /** confusion[actual][predicted], in the order of `labels`. */
  confusion: number[][];
  labels: string[];
}

export interface BinaryMetrics extends ClassificationMetrics {
  threshold: number;
  positive_label: string;
  precision: number;
  recall: number;
  f1: number;
  roc_auc: number;
}

export interface RegressionMetrics {
  examples: number;
  pearson: number;
  spearman: number;
  mae: number;
  rmse: number;
  /** Prediction ≥ threshold against label ≥ threshold (FineWeb-Edu reports F1 at 3). */
  threshold: number;
  binary_at_threshold: BinaryMetrics;
}

function ratio(a: number, b: number): number {
  return b === 0 ? 0 : a / b;
}

/** Metrics from actual and predicted class indices. */
export function classificationMetrics(labels: string[], actual: readonly number[], predicted: readonly number[]): ClassificationMetrics {
  const k = labels.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  for (let i = 0; i < actual.length; i++) confusion[actual[i]!]![predicted[i]!]!++;
  let correct = 0;
  const perClass: ClassMetrics[] = labels.map((label, c) => {
    const tp = confusion[c]![c]!;
    correct += tp;
    const predictedC = confusion.reduce((s, row) => s + row[c]!, 0);
    const actualC = confusion[c]!.reduce((s, v) => s + v, 0);
    const precision = ratio(tp, predictedC);
    const recall = ratio(tp, actualC);
    return { label, precision, recall, f1: ratio(2 * precision * recall, precision + recall), support: actualC };
  });
  return {
    examples: actual.length,
    accuracy: ratio(correct, actual.length),
    macro_f1: ratio(perClass.reduce((s, m) => s + m.f1, 0), k),
    per_class: perClass,
    confusion,
    labels,
  };
}

/** Area under the ROC curve (probability that a random positive outscores a random negative; ties count half). */
export function rocAuc(scores: readonly number[], positive: readonly boolean[]): number {
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(scores.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let t = i; t <= j; t++) ranks[order[t]![1]] = (i + j) / 2 + 1;
    i = j + 1;
  }
  let nPos = 0;
  let rankSum = 0;
  for (let i = 0; i < scores.length; i++) {
    if (positive[i]) {
      nPos++;
      rankSum += ranks[i]!;
    }
  }
  const nNeg = scores.length - nPos;
  if (nPos === 0 || nNeg === 0) return 0.5;
  return (rankSum - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}

/** Binary metrics of positive-class scores at a threshold (score ≥ threshold is positive). */
export function binaryMetrics(
  scores: readonly number[],
  positive: readonly boolean[],
  threshold: number,
  labels: [negative: string, positive: string],
): BinaryMetrics {
  const actual = positive.map((p) => (p ? 1 : 0));
  const predicted = scores.map((s) => (s >= threshold ? 1 : 0));
  const base = classificationMetrics(labels, actual, predicted);
  const pos = base.per_class[1]!;
  return {
    ...base,
    threshold,
    positive_label: labels[1],
    precision: pos.precision,
    recall: pos.recall,
    f1: pos.f1,
    roc_auc: rocAuc(scores, positive),
  };
}

/**
 * The threshold that maximises the positive class's F1 over the given scores (chosen on a
 * validation split, then reported on the test split). Candidates are midpoints between
 * consecutive distinct scores; ties in F1 go to the higher threshold (higher precision).
 */
export function bestF1Threshold(scores: readonly number[], positive: readonly boolean[]): number {
  const order = scores.map((s, i) => [s, positive[i]!] as const).sort((a, b) => b[0] - a[0]);
  const totalPos = positive.filter(Boolean).length;
  if (order.length === 0 || totalPos === 0) return 0.5;
  let tp = 0;
  let fp = 0;
  let best = -1;
  let bestThreshold = 0.5;
  for (let i = 0; i < order.length; i++) {
    if (order[i]![1]) tp++;
    else fp++;
    if (i + 1 < order.length && order[i + 1]![0] === order[i]![0]) continue;
    const f1 = ratio(2 * tp, 2 * tp + fp + (totalPos - tp));
    if (f1 > best) {
      best = f1;
      bestThreshold = i + 1 < order.length ? (order[i]![0] + order[i + 1]![0]) / 2 : order[i]![0];
    }
  }
  return bestThreshold;
}

function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  if (n < 2) return 0;
  const mx = x.reduce((s, v) => s + v, 0) / n;
  const my = y.reduce((s, v) => s + v, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxx === 0 || syy === 0 ? 0 : sxy / Math.sqrt(sxx * syy);
}

function averageRanks(x: readonly number[]): number[] {
  const order = x.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(x.length);
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && order[j + 1]![0] === order[i]![0]) j++;
    for (let t = i; t <= j; t++) ranks[order[t]![1]] = (i + j) / 2;
    i = j + 1;
  }
  return ranks;
}

export function regressionMetrics(actual: readonly number[], predicted: readonly number[], threshold: number): RegressionMetrics {
  const n = actual.length;
  let abs = 0;
  let sq = 0;
  for (let i = 0; i < n; i++) {
    abs += Math.abs(predicted[i]! - actual[i]!);
    sq += (predicted[i]! - actual[i]!) ** 2;
  }
  return {
    examples: n,
    pearson: pearson(actual, predicted),
    spearman: pearson(averageRanks(actual), averageRanks(predicted)),
    mae: ratio(abs, n),
    rmse: Math.sqrt(ratio(sq, n)),
    threshold,
    binary_at_threshold: binaryMetrics(predicted, actual.map((a) => a >= threshold), threshold, [`<${threshold}`, `>=${threshold}`]),
  };
}

/** What a model must beat: constant predictions, scored on the same held-out split. */
export interface ClassificationBaselines {
  /** Always the class most frequent in the train split. */
  majority_class: { label: string; accuracy: number; macro_f1: number; f1: number | null };
  /** Binary: every document positive (recall 1, precision = the positive share). */
  all_positive: { accuracy: number; precision: number; recall: number; f1: number } | null;
}

export function classificationBaselines(labels: string[], trainTargets: readonly number[], evalTargets: readonly number[], binary: boolean): ClassificationBaselines {
  const counts = new Array<number>(labels.length).fill(0);
  for (const t of trainTargets) counts[t]!++;
  const majority = counts.reduce((best, c, i) => (c > counts[best]! ? i : best), 0);
  const m = classificationMetrics(labels, evalTargets, evalTargets.map(() => majority));
  if (!binary) return { majority_class: { label: labels[majority]!, accuracy: m.accuracy, macro_f1: m.macro_f1, f1: null }, all_positive: null };
  const all = classificationMetrics(labels, evalTargets, evalTargets.map(() => 1)).per_class[1]!;
  return {
    majority_class: { label: labels[majority]!, accuracy: m.accuracy, macro_f1: m.macro_f1, f1: m.per_class[1]!.f1 },
    all_positive: { accuracy: all.precision, precision: all.precision, recall: all.recall, f1: all.f1 },
  };
}

/** Regression's baseline: every document scored the train split's mean. */
export function regressionBaseline(trainTargets: readonly number[], evalTargets: readonly number[], threshold: number): { prediction: number; mae: number; rmse: number; f1_at_threshold: number } {
  const mean = trainTargets.length ? trainTargets.reduce((s, v) => s + v, 0) / trainTargets.length : 0;
  const m = regressionMetrics(evalTargets, evalTargets.map(() => mean), threshold);
  return { prediction: mean, mae: m.mae, rmse: m.rmse, f1_at_threshold: m.binary_at_threshold.f1 };
}
