/**
 * Llama 3's two-step prediction of a benchmark's accuracy (Llama 3 paper, §3.2.1): first the
 * negative log-likelihood of the correct answer against training compute, for the
 * compute-optimal models (here: the runs whose task NLL is below that of every cheaper run), as
 * a power law log NLL = a + b·log C; then accuracy against NLL, a sigmoid fitted on every run.
 * Intervals come from a seeded bootstrap of both fits.
 */
import { RefineryError } from '../../pipeline/errors.ts';
import { SeededRandom } from '../../pipeline/seeded-random.ts';
import { minimizeLbfgs } from './lbfgs.ts';
import { percentileInterval, type Interval } from './law-fit.ts';

export interface TaskRun {
  flops: number;
  nll: number;
  acc: number;
}

/** acc = low + (high − low) / (1 + exp(slope · (nll − mid))): falls from `high` to `low` as NLL grows. */
export interface Sigmoid {
  low: number;
  high: number;
  slope: number;
  mid: number;
}

export interface DownstreamPrediction {
  compute: number;
  /** Target compute / the largest run's compute. */
  extrapolation: number;
  frontier_runs: number;
  nll_law: { a: number; b: number };
  sigmoid: Sigmoid;
  nll: number;
  accuracy: number;
  intervals: { nll: Interval; accuracy: Interval; level: number; bootstrap: number; seed: number };
}

export function sigmoidAccuracy(s: Sigmoid, nll: number): number {
  return s.low + (s.high - s.low) / (1 + Math.exp(s.slope * (nll - s.mid)));
}

/** Runs whose NLL is below that of every run of less or equal compute. */
export function frontier(runs: readonly TaskRun[]): TaskRun[] {
  const sorted = [...runs].sort((x, y) => x.flops - y.flops || x.nll - y.nll);
  const out: TaskRun[] = [];
  for (const r of sorted) if (out.length === 0 || r.nll < out[out.length - 1]!.nll) out.push(r);
  return out;
}

function fitNllLaw(runs: readonly TaskRun[]): { a: number; b: number } {
  const x = runs.map((r) => Math.log(r.flops));
  const y = runs.map((r) => Math.log(r.nll));
  const mx = x.reduce((s, v) => s + v, 0) / x.length;
  const my = y.reduce((s, v) => s + v, 0) / y.length;
  const sxx = x.reduce((s, v) => s + (v - mx) ** 2, 0);
  if (sxx === 0) throw new RefineryError('the compute-optimal runs all have the same compute: no trend of NLL with compute to fit');
  const b = x.reduce((s, v, i) => s + (v - mx) * (y[i]! - my), 0) / sxx;
  return { a: my - b * mx, b };
}

/** Least squares over (low, high, log slope, mid), from a start read off the data. */
function fitSigmoid(runs: readonly TaskRun[], start?: Sigmoid): Sigmoid {
  const nlls = runs.map((r) => r.nll);
  const accs = runs.map((r) => r.acc);
  const s0 = start ?? {
    low: Math.min(...accs),
    high: Math.max(...accs),
    slope: 4 / Math.max(1e-9, Math.max(...nlls) - Math.min(...nlls)),
    mid: nlls.reduce((s, v) => s + v, 0) / nlls.length,
  };
  const objective = (t: readonly number[]) => {
    const [low, high, logSlope, mid] = t as [number, number, number, number];
    const slope = Math.exp(logSlope);
    let value = 0;
    const g = [0, 0, 0, 0];
    for (const r of runs) {
      const e = Math.exp(slope * (r.nll - mid));
      const sig = 1 / (1 + e);
      const res = low + (high - low) * sig - r.acc;
      value += res * res;
      const dsig = -sig * sig * e; // d sig / d (slope·(nll − mid))
      g[0]! += 2 * res * (1 - sig);
      g[1]! += 2 * res * sig;
      g[2]! += 2 * res * (high - low) * dsig * slope * (r.nll - mid);
      g[3]! += 2 * res * (high - low) * dsig * -slope;
    }
    return { value, gradient: g };
  };
  const r = minimizeLbfgs(objective, [s0.low, s0.high, Math.log(s0.slope), s0.mid], { ftol: 1e-12 });
  const [low, high, logSlope, mid] = r.x as [number, number, number, number];
  return { low, high, slope: Math.exp(logSlope), mid };
}

export function predictDownstream(runs: readonly TaskRun[], compute: number, options: { bootstrap?: number; seed?: number; level?: number } = {}): DownstreamPrediction {
  const front = frontier(runs);
  if (front.length < 3) throw new RefineryError(`only ${front.length} runs are compute-optimal for the task (lower NLL than every cheaper run); the NLL trend needs at least 3`);
  if (runs.length < 5) throw new RefineryError(`${runs.length} runs are too few to fit the 4 parameters of the accuracy sigmoid (need at least 5)`);
  const nllLaw = fitNllLaw(front);
  const sigmoid = fitSigmoid(runs);
  const nllAt = (l: { a: number; b: number }) => Math.exp(l.a + l.b * Math.log(compute));
  const nll = nllAt(nllLaw);
  const replicates = options.bootstrap ?? 1000;
  const seed = options.seed ?? 0;
  const level = options.level ?? 0.95;
  const random = new SeededRandom(seed);
  const nlls: number[] = [];
  const accs: number[] = [];
  for (let i = 0; i < replicates; i++) {
    const f = front.map(() => front[random.int(front.length)]!);
    const all = runs.map(() => runs[random.int(runs.length)]!);
    if (new Set(f.map((r) => r.flops)).size < 2) continue;
    const n = nllAt(fitNllLaw(f));
    nlls.push(n);
    accs.push(sigmoidAccuracy(fitSigmoid(all, sigmoid), n));
  }
  return {
    compute,
    extrapolation: compute / Math.max(...runs.map((r) => r.flops)),
    frontier_runs: front.length,
    nll_law: nllLaw,
    sigmoid,
    nll,
    accuracy: sigmoidAccuracy(sigmoid, nll),
    intervals: { nll: percentileInterval(nlls, level), accuracy: percentileInterval(accs, level), level, bootstrap: replicates, seed },
  };
}
