/**
 * Mixes across scales: runs that share a mixture (`w_<domain>` columns) trained at several sizes.
 * Says whether the ranking of mixes holds from one size to the next (Spearman correlation of the
 * losses of the mixes trained at both), fits one law per mix with shared exponents, and ranks the
 * mixes at the compute-optimal model of a target compute. The shared fit is a variable
 * projection: for given (alpha, beta) each mix's E, A, B are linear least squares, so only the two
 * exponents are searched (a grid, then a finer grid around its best), on the squared error of
 * every run.
 */
import { domainBounds } from '../fit-mix.ts';
import type { Census } from '../census.ts';
import type { MixConfig } from '../mix-config.ts';
import { spearman } from '../rank-correlation.ts';
import { computeOptimal, type Law } from './law-fit.ts';
import type { ScalingRun } from './scaling-runs-csv.ts';

export interface ScaleStep {
  from: { params: number; tokens: number };
  to: { params: number; tokens: number };
  /** Mixes trained at both sizes. */
  mixes: number;
  spearman: number;
  /** The best of those mixes at each size (its first run's name). */
  best_from: string;
  best_to: string;
}

export interface MixAtTarget {
  /** Name of the mix's first run. */
  run: string;
  weights: Record<string, number>;
  law: { E: number; A: number; B: number };
  predicted_loss: number;
  /** Inside the share bounds of the mix config (always, without one). */
  within_bounds: boolean;
}

export interface MixScaling {
  domains: string[];
  mixes: number;
  steps: ScaleStep[];
  target?: {
    /** The exponents every mix's law shares. */
    alpha: number;
    beta: number;
    compute: number;
    params: number;
    tokens: number;
    /** Spearman correlation of the predicted losses at the target with the losses measured at the largest size, over the mixes trained there. */
    ranking_vs_largest: number | null;
    best: MixAtTarget | null;
    ranked: MixAtTarget[];
  };
}

interface MixGroup {
  weights: number[];
  runs: number[];
}

const sizeKey = (r: ScalingRun) => `${r.params}|${r.tokens}`;

function groupByMix(runs: readonly ScalingRun[], domains: string[]): MixGroup[] {
  const groups = new Map<string, MixGroup>();
  runs.forEach((r, i) => {
    const raw = domains.map((d) => r.weights[d]!);
    const sum = raw.reduce((a, b) => a + b, 0);
    const w = raw.map((x) => (sum > 0 ? x / sum : 0));
    const key = w.map((x) => x.toFixed(6)).join(',');
    const g = groups.get(key) ?? { weights: w, runs: [] };
    g.runs.push(i);
    groups.set(key, g);
  });
  return [...groups.values()];
}

/** Small least squares by normal equations (at most 3 unknowns here). */
function solve(X: number[][], y: number[]): number[] {
  const p = X[0]!.length;
  const A = Array.from({ length: p }, (_, i) => [...Array.from({ length: p }, (_, j) => X.reduce((a, x) => a + x[i]! * x[j]!, 0)), X.reduce((a, x, r) => a + x[i]! * y[r]!, 0)]);
  for (let c = 0; c < p; c++) {
    let pivot = c;
    for (let r = c + 1; r < p; r++) if (Math.abs(A[r]![c]!) > Math.abs(A[pivot]![c]!)) pivot = r;
    [A[c], A[pivot]] = [A[pivot]!, A[c]!];
    for (let r = 0; r < p; r++) {
      if (r === c || A[c]![c] === 0) continue;
      const f = A[r]![c]! / A[c]![c]!;
      for (let k = c; k <= p; k++) A[r]![k]! -= f * A[c]![k]!;
    }
  }
  return A.map((row, i) => (row[i] === 0 ? 0 : row[p]! / row[i]!));
}

/** E, A, B of one mix for given exponents; a term whose variable never varies in the mix's runs keeps the shared law's coefficient. */
function mixLaw(runs: readonly ScalingRun[], y: readonly number[], rows: readonly number[], law: Law): { E: number; A: number; B: number } {
  const varies = (f: (r: ScalingRun) => number) => new Set(rows.map((i) => f(runs[i]!))).size > 1;
  const fitA = varies((r) => r.params);
  const fitB = varies((r) => r.tokens);
  const unknowns = 1 + (fitA ? 1 : 0) + (fitB ? 1 : 0);
  if (rows.length < unknowns) {
    // Too few runs for the terms that vary: the shared law moved by the mix's mean offset.
    const offset = rows.reduce((a, i) => a + y[i]! - (law.E + law.A / runs[i]!.params ** law.alpha + law.B / runs[i]!.tokens ** law.beta), 0) / rows.length;
    return { E: law.E + offset, A: law.A, B: law.B };
  }
  const X = rows.map((i) => [1, ...(fitA ? [runs[i]!.params ** -law.alpha] : []), ...(fitB ? [runs[i]!.tokens ** -law.beta] : [])]);
  const t = rows.map((i) => y[i]! - (fitA ? 0 : law.A / runs[i]!.params ** law.alpha) - (fitB ? 0 : law.B / runs[i]!.tokens ** law.beta));
  const c = solve(X, t);
  return { E: c[0]!, A: fitA ? c[1]! : law.A, B: fitB ? c[fitA ? 2 : 1]! : law.B };
}

function squaredError(runs: readonly ScalingRun[], y: readonly number[], groups: readonly MixGroup[], law: Law): number {
  let sum = 0;
  for (const g of groups) {
    const l = mixLaw(runs, y, g.runs, law);
    for (const i of g.runs) sum += (y[i]! - (l.E + l.A / runs[i]!.params ** law.alpha + l.B / runs[i]!.tokens ** law.beta)) ** 2;
  }
  return sum;
}

/** The exponents shared by every mix's law; one that no mix's runs can identify keeps the law fitted on every run. */
function sharedExponents(runs: readonly ScalingRun[], y: readonly number[], groups: readonly MixGroup[], law: Law): Law {
  const variesIn = (f: (r: ScalingRun) => number) => groups.some((g) => new Set(g.runs.map((i) => f(runs[i]!))).size > 1);
  const searchAlpha = variesIn((r) => r.params);
  const searchBeta = variesIn((r) => r.tokens);
  let best = { alpha: law.alpha, beta: law.beta, err: squaredError(runs, y, groups, law) };
  for (const [step, span] of [[0.02, 1], [0.002, 0.02]] as const) {
    const around = { ...best };
    const values = (center: number, free: boolean) => (free ? Array.from({ length: Math.round((2 * span) / step) + 1 }, (_, k) => center - span + k * step).filter((v) => v > 0.01 && v < 2) : [center]);
    for (const alpha of values(step === 0.02 ? 1 : around.alpha, searchAlpha))
      for (const beta of values(step === 0.02 ? 1 : around.beta, searchBeta)) {
        const err = squaredError(runs, y, groups, { ...law, alpha, beta });
        if (err < best.err) best = { alpha, beta, err };
      }
  }
  return { ...law, alpha: best.alpha, beta: best.beta };
}

export function mixScaling(runs: readonly ScalingRun[], y: readonly number[], law: Law, options: { compute?: number; config?: MixConfig; census?: Census } = {}): MixScaling {
  const domains = Object.keys(runs[0]!.weights);
  const groups = groupByMix(runs, domains);
  const name = (g: MixGroup) => runs[g.runs[0]!]!.name;

  // Sizes trained with at least 3 mixes, in order of compute; each step compares a size with the next.
  const sizes = [...new Set(runs.map(sizeKey))]
    .map((key) => ({ key, run: runs.find((r) => sizeKey(r) === key)! }))
    .filter(({ key }) => groups.filter((g) => g.runs.some((i) => sizeKey(runs[i]!) === key)).length >= 3)
    .sort((a, b) => a.run.params * a.run.tokens - b.run.params * b.run.tokens);
  const lossAt = (g: MixGroup, key: string) => {
    const at = g.runs.filter((i) => sizeKey(runs[i]!) === key);
    return at.length ? at.reduce((a, i) => a + y[i]!, 0) / at.length : undefined;
  };
  const steps: ScaleStep[] = [];
  for (let s = 0; s + 1 < sizes.length; s++) {
    const [a, b] = [sizes[s]!, sizes[s + 1]!];
    const shared = groups.flatMap((g) => {
      const la = lossAt(g, a.key);
      const lb = lossAt(g, b.key);
      return la !== undefined && lb !== undefined ? [{ g, la, lb }] : [];
    });
    if (shared.length < 3) continue;
    const bestBy = (k: 'la' | 'lb') => shared.reduce((x, c) => (c[k] < x[k] ? c : x));
    steps.push({
      from: { params: a.run.params, tokens: a.run.tokens },
      to: { params: b.run.params, tokens: b.run.tokens },
      mixes: shared.length,
      spearman: spearman(shared.map((x) => x.la), shared.map((x) => x.lb)),
      best_from: name(bestBy('la').g),
      best_to: name(bestBy('lb').g),
    });
  }

  const result: MixScaling = { domains, mixes: groups.length, steps };
  if (options.compute !== undefined) {
    const at = computeOptimal(law, options.compute);
    const bounds = domainBounds(domains, options.config, options.census);
    const shared = sharedExponents(runs, y, groups, law);
    const ranked = groups
      .map((g): MixAtTarget & { group: MixGroup } => {
        const l = mixLaw(runs, y, g.runs, shared);
        return {
          group: g,
          run: name(g),
          weights: Object.fromEntries(domains.map((d, i) => [d, g.weights[i]!])),
          law: l,
          predicted_loss: l.E + l.A / at.params ** shared.alpha + l.B / at.tokens ** shared.beta,
          within_bounds: g.weights.every((w, i) => w >= bounds.lo[i]! - 1e-9 && w <= bounds.hi[i]! + 1e-9),
        };
      })
      .sort((a, b) => a.predicted_loss - b.predicted_loss);
    const largest = sizes[sizes.length - 1];
    const measured = largest ? ranked.flatMap((m) => (lossAt(m.group, largest.key) === undefined ? [] : [{ p: m.predicted_loss, l: lossAt(m.group, largest.key)! }])) : [];
    result.target = {
      alpha: shared.alpha,
      beta: shared.beta,
      compute: options.compute,
      params: at.params,
      tokens: at.tokens,
      ranking_vs_largest: measured.length >= 3 ? spearman(measured.map((m) => m.p), measured.map((m) => m.l)) : null,
      best: stripGroup(ranked.find((m) => m.within_bounds)),
      ranked: ranked.map((m) => stripGroup(m)!),
    };
  }
  return result;
}

function stripGroup(m: (MixAtTarget & { group: MixGroup }) | undefined): MixAtTarget | null {
  if (!m) return null;
  const { group: _group, ...rest } = m;
  return rest;
}
