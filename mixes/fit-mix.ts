/** `refinery mix fit`: proxy runs → fitted regression → the best mix under the plan's constraints. */
import { RefineryError } from '../pipeline/errors.ts';
import type { Census } from './census.ts';
import { shareRange, type MixConfig } from './mix-config.ts';
import { MODEL_KINDS, selectModel, type FittedModel, type ModelKind } from './regmix-model.ts';
import { evidenceRegion, nearestRun } from './regmix-evidence.ts';
import { proposeMix, type DomainBounds, type MixProposal } from './regmix-search.ts';
import type { ProxyRuns } from './runs-csv.ts';

export interface FitOptions {
  /** A `loss_<name>` column to minimise; default: the mean of every loss column. */
  target?: string;
  /** Model family; default: the one whose cross-validated predictions rank the runs best. */
  model?: ModelKind;
  config?: MixConfig;
  census?: Census;
  candidates?: number;
  seed?: number;
  /** `evidence` (default): propose only near the proxy runs; `simplex`: anywhere in the bounds. */
  search?: 'evidence' | 'simplex';
}

export interface FitResult {
  version: 1;
  runs: number;
  domains: string[];
  target: string;
  model: FittedModel;
  compared: { kind: ModelKind; r2: number; cv_rmse: number; cv_spearman: number }[];
  bounds: Record<string, { min: number; max: number }>;
  proposal: MixProposal;
  /** How far the proposal is from the nearest proxy run, against the radius of the evidence region. */
  evidence: { radius: number; quantile: number; nearest_run: { index: number; line: number }; distance: number; within: boolean };
  /** The best of the runs actually trained, for comparison. */
  best_run: { index: number; line: number; weights: Record<string, number>; loss: number };
  /** Reasons not to trust the proposal as it is. */
  warnings: string[];
}

export function targetValues(runs: ProxyRuns, target?: string): { name: string; y: number[] } {
  if (target !== undefined) {
    if (!runs.losses.includes(target)) throw new RefineryError(`no loss column loss_${target}; the runs have ${runs.losses.map((l) => `loss_${l}`).join(', ')}`);
    return { name: target, y: runs.loss.map((l) => l[target]!) };
  }
  return { name: runs.losses.length === 1 ? runs.losses[0]! : `mean(${runs.losses.join(', ')})`, y: runs.loss.map((l) => runs.losses.reduce((a, k) => a + l[k]!, 0) / runs.losses.length) };
}

/** Per-domain share ranges: mix.yaml's shares (with tolerance) and, with a census, the epoch cap of each category. */
export function domainBounds(domains: string[], config?: MixConfig, census?: Census): DomainBounds {
  const lo: number[] = [];
  const hi: number[] = [];
  for (const d of domains) {
    const r = config ? shareRange(config, d) : undefined;
    let max = r?.max ?? 1;
    if (config && census) {
      const available = census.buckets
        .filter((b) => b.category === d)
        .reduce((a, b) => a + (config.sources[b.source]?.max_epochs ?? config.max_epochs) * b.tokens, 0);
      max = Math.min(max, available / config.total_tokens);
    }
    lo.push(r?.min ?? 0);
    hi.push(max);
  }
  return { domains, lo, hi };
}

export function fitMix(runs: ProxyRuns, options: FitOptions = {}): FitResult {
  const { name, y } = targetValues(runs, options.target);
  const { best, compared } = selectModel(runs.domains, runs.weights, y, options.model ? [options.model] : MODEL_KINDS);
  const bounds = domainBounds(runs.domains, options.config, options.census);
  const region = evidenceRegion(runs.weights);
  const search = options.search ?? 'evidence';
  const proposal = proposeMix(best, bounds, { candidates: options.candidates, seed: options.seed, ...(search === 'evidence' ? { evidence: region } : {}) });
  let bestRun = 0;
  y.forEach((v, i) => {
    if (v < y[bestRun]!) bestRun = i;
  });
  const near = nearestRun(region, runs.domains.map((d) => proposal.weights[d]!));
  // Rounding the proposal's weights to 6 decimals may move it by up to 10⁻⁵.
  const within = near.distance <= region.radius + 1e-5;
  const warnings: string[] = [];
  if (!within) {
    warnings.push(`the proposal is ${near.distance.toFixed(3)} (total variation) from the nearest proxy run (line ${runs.lines[near.index]}), beyond the ${region.radius.toFixed(3)} that ${Math.round(region.quantile * 100)}% of runs are from their nearest neighbour: the regression is extrapolating there; search near the runs (--search evidence) or train proxy runs around it`);
  }
  if (proposal.predicted_loss < y[bestRun]!) {
    warnings.push(`the proposal's predicted loss ${proposal.predicted_loss.toFixed(4)} is below every measured run's (best ${y[bestRun]!.toFixed(4)}, line ${runs.lines[bestRun]}): a prediction no run confirms; train the proposed mix before trusting it`);
  }
  return {
    version: 1,
    runs: y.length,
    domains: runs.domains,
    target: name,
    model: best,
    compared: compared.map((m) => ({ kind: m.kind, r2: m.r2, cv_rmse: m.cv_rmse, cv_spearman: m.cv_spearman })),
    bounds: Object.fromEntries(runs.domains.map((d, i) => [d, { min: bounds.lo[i]!, max: bounds.hi[i]! }])),
    proposal,
    evidence: { radius: region.radius, quantile: region.quantile, nearest_run: { index: near.index, line: runs.lines[near.index]! }, distance: near.distance, within },
    best_run: { index: bestRun, line: runs.lines[bestRun]!, weights: Object.fromEntries(runs.domains.map((d, i) => [d, runs.weights[bestRun]![i]!])), loss: y[bestRun]! },
    warnings,
  };
}
