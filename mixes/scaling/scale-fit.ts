/** `refinery mix scale`: training runs → the fitted loss law, its bootstrap intervals, the compute-optimal model. */
import type { Census } from '../census.ts';
import type { MixConfig } from '../mix-config.ts';
import { predictDownstream, type DownstreamPrediction } from './downstream-fit.ts';
import { mixScaling, type MixScaling } from './mix-scaling.ts';
import { formatTokens } from '../planner.ts';
import { bootstrapLaw, computeOptimal, fitLaw, lawIntervals, percentileInterval, predictLaw, type Interval, type Law, type LawParameter } from './law-fit.ts';
import { targetLoss, type ScalingRuns } from './scaling-runs-csv.ts';

export interface ScaleOptions {
  /** The loss column to fit (`loss`, or `<name>` of `loss_<name>`); default the only one. */
  target?: string;
  /** FLOPs at which to give the compute-optimal params, tokens and loss. */
  compute?: number;
  bootstrap?: number;
  seed?: number;
  /** Coverage of the intervals (0.95: 2.5th to 97.5th percentile of the bootstrap fits). */
  level?: number;
  /** With `w_<domain>` columns: the share bounds the best mix at the target must meet. */
  config?: MixConfig;
  census?: Census;
}

export interface ComputeOptimal {
  compute: number;
  params: number;
  tokens: number;
  loss: number;
  /** How far the target is beyond the largest run's compute (1 or less: inside the runs). */
  extrapolation: number;
  intervals: { params: Interval; tokens: Interval; loss: Interval };
}

export interface ScaleResult {
  version: 1;
  form: 'L(N, D) = E + A / N^alpha + B / D^beta';
  runs: number;
  target: string;
  law: Law;
  objective: { loss: 'huber on log loss'; huber_delta: number; value: number; starts: number; starts_at_best: number };
  intervals: Record<LawParameter, Interval> & { level: number; bootstrap: number; seed: number };
  compute_optimal?: ComputeOptimal;
  /** With --compute and nll_<task>, acc_<task> columns: each task's predicted NLL and accuracy at that compute. */
  downstream?: Record<string, DownstreamPrediction>;
  /** The compute-optimal model from the smallest run's compute to the target (or the largest run), 40 log-spaced points, with intervals. */
  frontier: { compute: number; params: number; tokens: number; loss: number; loss_interval: Interval; params_interval: Interval }[];
  /** With `w_<domain>` columns: the ranking of mixes across sizes, and at the target compute. */
  mixes?: MixScaling;
  fit_quality: { rmse: number; max_abs_residual: number };
  /** Reasons not to trust parts of the fit. */
  warnings: string[];
  /** Per run: measured and fitted loss, residual = loss − predicted. */
  residuals: { run: string; line: number; params: number; tokens: number; loss: number; predicted: number; residual: number }[];
}

export function fitScaling(runs: ScalingRuns, options: ScaleOptions = {}): ScaleResult {
  const { name, y } = targetLoss(runs, options.target);
  const points = runs.runs.map((r, i) => ({ params: r.params, tokens: r.tokens, loss: y[i]! }));
  const fit = fitLaw(points);
  const level = options.level ?? 0.95;
  const boot = bootstrapLaw(points, fit, { replicates: options.bootstrap ?? 1000, seed: options.seed ?? 0, level });
  const residuals = runs.runs.map((r, i) => {
    const predicted = predictLaw(fit.law, r.params, r.tokens);
    return { run: r.name, line: r.line, params: r.params, tokens: r.tokens, loss: y[i]!, predicted, residual: y[i]! - predicted };
  });
  let computeOptimalResult: ComputeOptimal | undefined;
  if (options.compute !== undefined) {
    const at = computeOptimal(fit.law, options.compute);
    const replicas = boot.laws.map((l) => computeOptimal(l, options.compute!));
    computeOptimalResult = {
      ...at,
      extrapolation: options.compute / Math.max(...runs.runs.map((r) => r.flops)),
      intervals: {
        params: percentileInterval(replicas.map((r) => r.params), level),
        tokens: percentileInterval(replicas.map((r) => r.tokens), level),
        loss: percentileInterval(replicas.map((r) => r.loss), level),
      },
    };
  }
  const tasks = Object.keys(runs.runs[0]?.nll ?? {}).filter((t) => t in (runs.runs[0]?.acc ?? {}));
  const downstream =
    options.compute !== undefined && tasks.length
      ? Object.fromEntries(
          tasks.map((t) => [t, predictDownstream(runs.runs.map((r) => ({ flops: r.flops, nll: r.nll[t]!, acc: r.acc[t]! })), options.compute!, { bootstrap: options.bootstrap, seed: options.seed, level })]),
        )
      : undefined;
  const flops = runs.runs.map((r) => r.flops);
  const lo = Math.log(Math.min(...flops));
  const hi = Math.log(Math.max(options.compute ?? 0, ...flops));
  const frontier = Array.from({ length: 40 }, (_, k) => Math.exp(lo + ((hi - lo) * k) / 39)).map((c) => {
    const replicas = boot.laws.map((l) => computeOptimal(l, c));
    return {
      ...computeOptimal(fit.law, c),
      loss_interval: percentileInterval(replicas.map((r) => r.loss), level),
      params_interval: percentileInterval(replicas.map((r) => r.params), level),
    };
  });
  const warnings: string[] = [];
  for (const [what, terms] of [['params', 'A and alpha'], ['tokens', 'B and beta']] as const) {
    const values = new Set(runs.runs.map((r) => r[what]));
    if (values.size === 1) warnings.push(`every run has the same ${what} (${formatTokens(runs.runs[0]![what])}): ${terms} are not identified, and the compute-optimal split is not either; train runs of several ${what === 'params' ? 'sizes' : 'lengths'}`);
  }
  if (computeOptimalResult && computeOptimalResult.extrapolation > 100) warnings.push(`the target compute is ${computeOptimalResult.extrapolation.toPrecision(3)}× the largest run's: far beyond what the runs show`);
  const mixes = Object.keys(runs.runs[0]?.weights ?? {}).length >= 2 ? mixScaling(runs.runs, y, fit.law, { compute: options.compute, config: options.config, census: options.census }) : undefined;
  return {
    version: 1,
    form: 'L(N, D) = E + A / N^alpha + B / D^beta',
    runs: points.length,
    target: name,
    law: fit.law,
    objective: { loss: 'huber on log loss', huber_delta: fit.huber_delta, value: fit.objective, starts: fit.starts, starts_at_best: fit.starts_at_best },
    intervals: { ...lawIntervals(boot), level, bootstrap: boot.replicates, seed: boot.seed },
    ...(computeOptimalResult ? { compute_optimal: computeOptimalResult } : {}),
    frontier,
    ...(downstream ? { downstream } : {}),
    ...(mixes ? { mixes } : {}),
    fit_quality: {
      rmse: Math.sqrt(residuals.reduce((a, r) => a + r.residual ** 2, 0) / residuals.length),
      max_abs_residual: Math.max(...residuals.map((r) => Math.abs(r.residual))),
    },
    warnings,
    residuals,
  };
}
