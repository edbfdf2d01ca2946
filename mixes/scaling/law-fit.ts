/**
 * The Chinchilla loss law L(N, D) = E + A / N^alpha + B / D^beta, fitted as Hoffmann et al. 2022
 * (Approach 3) and Besiroglu et al. 2024 ("Chinchilla Scaling: A replication attempt") fit it:
 * minimise Σ Huber_δ(LSE(a − alpha·log N, b − beta·log D, e) − log L) over (a, b, e, alpha, beta)
 * with A = e^a, B = e^b, E = e^e, δ = 10⁻³, by L-BFGS from every point of a grid of starts, and
 * keep the lowest objective. Intervals come from a seeded bootstrap over the runs.
 */
import { RefineryError } from '../../pipeline/errors.ts';
import { SeededRandom } from '../../pipeline/seeded-random.ts';
import { minimizeLbfgs } from './lbfgs.ts';

export interface Law {
  E: number;
  A: number;
  B: number;
  alpha: number;
  beta: number;
}

export const LAW_PARAMETERS = ['E', 'A', 'B', 'alpha', 'beta'] as const;
export type LawParameter = (typeof LAW_PARAMETERS)[number];

export interface LawPoint {
  params: number;
  tokens: number;
  loss: number;
}

export interface LawFit {
  law: Law;
  /** The Huber objective at the fit (sum over runs, on log loss). */
  objective: number;
  huber_delta: number;
  /** Starting points tried, and how many of them ended within 10⁻⁹ of the best objective. */
  starts: number;
  starts_at_best: number;
}

/** Hoffmann et al.'s grid of starting points (also Besiroglu et al.'s): 4,500 starts. */
export function hoffmannGrid(): number[][] {
  const range = (from: number, to: number, step: number) => Array.from({ length: Math.round((to - from) / step) + 1 }, (_, i) => from + i * step);
  const starts: number[][] = [];
  for (const alpha of range(0, 2, 0.5))
    for (const beta of range(0, 2, 0.5))
      for (const e of range(-1, 1, 0.5))
        for (const a of range(0, 25, 5))
          for (const b of range(0, 25, 5)) starts.push([a, b, e, alpha, beta]);
  return starts;
}

export function predictLaw(law: Law, params: number, tokens: number): number {
  return law.E + law.A / params ** law.alpha + law.B / tokens ** law.beta;
}

function toLaw(theta: readonly number[]): Law {
  return { A: Math.exp(theta[0]!), B: Math.exp(theta[1]!), E: Math.exp(theta[2]!), alpha: theta[3]!, beta: theta[4]! };
}

function toTheta(law: Law): number[] {
  return [Math.log(law.A), Math.log(law.B), Math.log(law.E), law.alpha, law.beta];
}

/** Σ Huber_δ(LSE(...) − log L) and its gradient in θ = (a, b, e, alpha, beta), over the chosen runs. */
function huberObjective(logN: Float64Array, logD: Float64Array, logL: Float64Array, rows: readonly number[], delta: number) {
  return (theta: readonly number[]) => {
    const [a, b, e, alpha, beta] = theta as [number, number, number, number, number];
    let value = 0;
    const g = [0, 0, 0, 0, 0];
    for (const i of rows) {
      const t1 = a - alpha * logN[i]!;
      const t2 = b - beta * logD[i]!;
      const m = Math.max(t1, t2, e);
      const x1 = Math.exp(t1 - m);
      const x2 = Math.exp(t2 - m);
      const x3 = Math.exp(e - m);
      const sum = x1 + x2 + x3;
      const r = m + Math.log(sum) - logL[i]!;
      const abs = Math.abs(r);
      value += abs <= delta ? 0.5 * r * r : delta * (abs - 0.5 * delta);
      const dr = abs <= delta ? r : delta * Math.sign(r);
      const w1 = (dr * x1) / sum;
      const w2 = (dr * x2) / sum;
      g[0]! += w1;
      g[1]! += w2;
      g[2]! += (dr * x3) / sum;
      g[3]! -= w1 * logN[i]!;
      g[4]! -= w2 * logD[i]!;
    }
    return { value, gradient: g };
  };
}

export interface FitLawOptions {
  huberDelta?: number;
  /** Starting points θ = (log A, log B, log E, alpha, beta); default Hoffmann et al.'s grid. */
  starts?: readonly (readonly number[])[];
}

class LawData {
  readonly logN: Float64Array;
  readonly logD: Float64Array;
  readonly logL: Float64Array;
  constructor(points: readonly LawPoint[]) {
    for (const p of points) if (!(p.params > 0 && p.tokens > 0 && p.loss > 0)) throw new RefineryError(`every run needs params, tokens and loss above 0 (got ${p.params}, ${p.tokens}, ${p.loss})`);
    this.logN = Float64Array.from(points, (p) => Math.log(p.params));
    this.logD = Float64Array.from(points, (p) => Math.log(p.tokens));
    this.logL = Float64Array.from(points, (p) => Math.log(p.loss));
  }

  fit(rows: readonly number[], starts: readonly (readonly number[])[], delta: number): LawFit {
    const f = huberObjective(this.logN, this.logD, this.logL, rows, delta);
    const ends = starts.map((s) => minimizeLbfgs(f, s)).filter((r) => Number.isFinite(r.value));
    if (ends.length === 0) throw new RefineryError('the law could not be fitted from any starting point');
    let best = ends[0]!;
    for (const r of ends) if (r.value < best.value) best = r;
    return {
      law: toLaw(best.x),
      objective: best.value,
      huber_delta: delta,
      starts: starts.length,
      starts_at_best: ends.filter((r) => r.value - best.value <= 1e-9 * Math.max(1, Math.abs(best.value))).length,
    };
  }
}

const MIN_RUNS = 6;

export function fitLaw(points: readonly LawPoint[], options: FitLawOptions = {}): LawFit {
  if (points.length < MIN_RUNS) throw new RefineryError(`${points.length} runs are too few to fit the 5 parameters of L(N, D) = E + A/N^alpha + B/D^beta (need at least ${MIN_RUNS})`);
  const data = new LawData(points);
  return data.fit(points.map((_, i) => i), options.starts ?? hoffmannGrid(), options.huberDelta ?? 1e-3);
}

/** Compute-optimal split of C = 6·N·D FLOPs: N* = G·(C/6)^(beta/(alpha+beta)), G = (alpha·A / (beta·B))^(1/(alpha+beta)). */
export function computeOptimal(law: Law, compute: number): { compute: number; params: number; tokens: number; loss: number } {
  const G = ((law.alpha * law.A) / (law.beta * law.B)) ** (1 / (law.alpha + law.beta));
  const params = G * (compute / 6) ** (law.beta / (law.alpha + law.beta));
  const tokens = compute / (6 * params);
  return { compute, params, tokens, loss: predictLaw(law, params, tokens) };
}

export type Interval = [number, number];

export interface Bootstrap {
  replicates: number;
  seed: number;
  level: number;
  laws: Law[];
}

/**
 * Refits the law on `replicates` resamples (with replacement) of the runs, each from the full
 * fit's parameters, as Besiroglu et al. do; the same seed gives the same resamples.
 */
export function bootstrapLaw(points: readonly LawPoint[], fit: LawFit, options: { replicates?: number; seed?: number; level?: number } = {}): Bootstrap {
  const replicates = options.replicates ?? 1000;
  const seed = options.seed ?? 0;
  const data = new LawData(points);
  const random = new SeededRandom(seed);
  const start = [toTheta(fit.law)];
  const laws: Law[] = [];
  for (let r = 0; r < replicates; r++) {
    const rows = points.map(() => random.int(points.length));
    laws.push(data.fit(rows, start, fit.huber_delta).law);
  }
  return { replicates, seed, level: options.level ?? 0.95, laws };
}

/** Percentile interval (linear interpolation between order statistics). */
export function percentileInterval(values: readonly number[], level: number): Interval {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = q * (sorted.length - 1);
    const lo = Math.floor(pos);
    const hi = Math.min(sorted.length - 1, lo + 1);
    return sorted[lo]! + (pos - lo) * (sorted[hi]! - sorted[lo]!);
  };
  return [at((1 - level) / 2), at(1 - (1 - level) / 2)];
}

export function lawIntervals(boot: Bootstrap): Record<LawParameter, Interval> {
  return Object.fromEntries(LAW_PARAMETERS.map((p) => [p, percentileInterval(boot.laws.map((l) => l[p]), boot.level)])) as Record<LawParameter, Interval>;
}
