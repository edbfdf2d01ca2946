/**
 * Regression from mixture weights to validation loss, after RegMix (Liu et al. 2024, "RegMix:
 * Data Mixture as Regression for Language Model Pre-training"): fit on small proxy runs, then
 * predict the loss of mixes never trained. Four model families, each scored by CV_FOLDS-fold
 * cross-validation; `selectModel` keeps the one that ranks the held-out runs best (Spearman
 * correlation: a mix is chosen by its rank, not its loss).
 *   linear:        loss = Σ β_i w_i            (an intercept is implied: Σ w_i = 1)
 *   log-linear:    log loss = Σ β_i w_i        (the exponential form of Ye et al. 2024, "Data Mixing Laws")
 *   quadratic:     loss = Σ β_i w_i + Σ γ_i w_i²  (a per-domain optimum inside the simplex)
 *   boosted-trees: gradient-boosted regression trees (RegMix's own choice; regmix-trees.ts)
 */
import { RefineryError } from '../pipeline/errors.ts';
import { spearman } from './rank-correlation.ts';
import { fitBoostedTrees, predictBoosted, type BoostedTrees } from './regmix-trees.ts';

export type ModelKind = 'linear' | 'log-linear' | 'quadratic' | 'boosted-trees';
export const MODEL_KINDS: readonly ModelKind[] = ['linear', 'log-linear', 'quadratic', 'boosted-trees'];

type ParametricKind = Exclude<ModelKind, 'boosted-trees'>;

export type MixModel = { kind: ParametricKind; domains: string[]; coefficients: number[] } | { kind: 'boosted-trees'; domains: string[]; ensemble: BoostedTrees };

export interface ModelScores {
  /** In-sample coefficient of determination. */
  r2: number;
  /** Root mean squared error of the cross-validated predictions, in loss units. */
  cv_rmse: number;
  /** Spearman correlation of cross-validated predictions and measured losses. */
  cv_spearman: number;
}

export type FittedModel = MixModel & ModelScores;

/** Folds of the cross-validation: run i is in fold i mod CV_FOLDS. */
export const CV_FOLDS = 5;

/** Fewest runs for the trees: a leaf holds at least 5 runs, and a tree of one split needs two. */
const MIN_RUNS_TREES = 20;

/** Ridge added to XᵀX, relative to its trace: keeps nearly collinear designs solvable. */
const RIDGE = 1e-9;

/** Fewest runs a family is fitted on: parameters + 2 for the regressions. */
export function minimumRuns(kind: ModelKind, domains: number): number {
  if (kind === 'boosted-trees') return MIN_RUNS_TREES;
  return (kind === 'quadratic' ? 2 * domains : domains) + 2;
}

function features(kind: ParametricKind, w: readonly number[]): number[] {
  return kind === 'quadratic' ? [...w, ...w.map((x) => x * x)] : [...w];
}

export function predictLoss(model: MixModel, w: readonly number[]): number {
  if (model.kind === 'boosted-trees') return predictBoosted(model.ensemble, w);
  const coefficients = model.coefficients;
  const z = features(model.kind, w).reduce((a, xi, i) => a + xi * coefficients[i]!, 0);
  return model.kind === 'log-linear' ? Math.exp(z) : z;
}

/** Least squares with a tiny ridge, by Gaussian elimination with partial pivoting. */
function leastSquares(X: number[][], t: number[]): number[] {
  const p = X[0]!.length;
  const A = Array.from({ length: p }, () => new Array<number>(p + 1).fill(0));
  for (let r = 0; r < X.length; r++) {
    const x = X[r]!;
    for (let i = 0; i < p; i++) {
      for (let j = 0; j < p; j++) A[i]![j]! += x[i]! * x[j]!;
      A[i]![p]! += x[i]! * t[r]!;
    }
  }
  let trace = 0;
  for (let i = 0; i < p; i++) trace += A[i]![i]!;
  for (let i = 0; i < p; i++) A[i]![i]! += RIDGE * Math.max(trace, 1e-12);
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[pivot]![c]!)) pivot = r;
    [A[c], A[pivot]] = [A[pivot]!, A[c]!];
    const d = A[c]![c]!;
    if (Math.abs(d) < 1e-300) throw new RefineryError('the regression is singular: the runs do not vary the mixture enough');
    for (let r = 0; r < p; r++) {
      if (r === c) continue;
      const f = A[r]![c]! / d;
      if (f === 0) continue;
      for (let k = c; k <= p; k++) A[r]![k]! -= f * A[c]![k]!;
    }
  }
  return A.map((row, i) => row[p]! / row[i]!);
}

export function fitModel(kind: ModelKind, domains: string[], W: number[][], y: number[]): MixModel {
  if (kind === 'boosted-trees') return { kind, domains, ensemble: fitBoostedTrees(W, y) };
  if (kind === 'log-linear' && y.some((v) => v <= 0)) throw new RefineryError('log-linear needs positive losses');
  const X = W.map((w) => features(kind, w));
  const t = kind === 'log-linear' ? y.map(Math.log) : y;
  return { kind, domains, coefficients: leastSquares(X, t) };
}

export function evaluateModel(kind: ModelKind, domains: string[], W: number[][], y: number[]): FittedModel {
  const model = fitModel(kind, domains, W, y);
  const mean = y.reduce((a, b) => a + b, 0) / y.length;
  const ssTot = y.reduce((a, v) => a + (v - mean) ** 2, 0);
  const ssRes = y.reduce((a, v, i) => a + (v - predictLoss(model, W[i]!)) ** 2, 0);
  const folds = Math.min(CV_FOLDS, W.length);
  const cv = new Array<number>(W.length);
  for (let f = 0; f < folds; f++) {
    const inFold = (i: number) => i % folds === f;
    const m = fitModel(kind, domains, W.filter((_, i) => !inFold(i)), y.filter((_, i) => !inFold(i)));
    W.forEach((w, i) => {
      if (inFold(i)) cv[i] = predictLoss(m, w);
    });
  }
  const cvRmse = Math.sqrt(cv.reduce((a, p, i) => a + (p - y[i]!) ** 2, 0) / y.length);
  return { ...model, r2: ssTot > 0 ? 1 - ssRes / ssTot : 1, cv_rmse: cvRmse, cv_spearman: spearman(cv, y) };
}

/** Fits every family the runs are enough for and ranks them by cross-validated Spearman correlation (then by error). */
export function selectModel(domains: string[], W: number[][], y: number[], kinds: readonly ModelKind[] = MODEL_KINDS): { best: FittedModel; compared: FittedModel[] } {
  const usable = kinds.filter((k) => W.length >= minimumRuns(k, domains.length) && (k !== 'log-linear' || y.every((v) => v > 0)));
  if (usable.length === 0) {
    throw new RefineryError(`${W.length} runs are too few to fit ${kinds.join(' or ')} over ${domains.length} domains (need at least ${Math.min(...kinds.map((k) => minimumRuns(k, domains.length)))})`);
  }
  const compared = usable.map((k) => evaluateModel(k, domains, W, y)).sort((a, b) => b.cv_spearman - a.cv_spearman || a.cv_rmse - b.cv_rmse);
  return { best: compared[0]!, compared };
}
