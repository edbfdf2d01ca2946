/**
 * Finds the mix with the lowest predicted loss inside the constraints: per-domain share ranges
 * on the simplex (Σ w = 1, lo ≤ w ≤ hi). RegMix's search (random candidate mixes, keep the best
 * predicted), then projected gradient descent from the best candidates to settle on the optimum.
 * With an evidence region (the default of `mix fit`) candidates are drawn between neighbouring
 * proxy runs and the descent never leaves the region, so the proposal stays where runs were
 * trained; without one they are uniform on the constrained simplex.
 */
import { RefineryError } from '../pipeline/errors.ts';
import { predictLoss, type MixModel } from './regmix-model.ts';
import { evidenceCandidate, nearestRun, type EvidenceRegion } from './regmix-evidence.ts';
import { mulberry32 as rng } from '../pipeline/seeded-random.ts';

export interface DomainBounds {
  domains: string[];
  lo: number[];
  hi: number[];
}

export interface MixProposal {
  weights: Record<string, number>;
  predicted_loss: number;
  /** RegMix's own answer: the mean of the `top_k` best random candidates. */
  top_k_mean: { k: number; weights: Record<string, number>; predicted_loss: number };
  candidates: number;
  /** `evidence`: candidates between neighbouring proxy runs, the proposal within the region; `simplex`: anywhere in the bounds. */
  search: 'evidence' | 'simplex';
}

export function checkBounds(b: DomainBounds): void {
  const lo = b.lo.reduce((a, x) => a + x, 0);
  const hi = b.hi.reduce((a, x) => a + x, 0);
  if (lo > 1 + 1e-12) throw new RefineryError(`the minimum shares of ${b.domains.join(', ')} add up to ${lo.toFixed(4)}, more than 1`);
  if (hi < 1 - 1e-12) throw new RefineryError(`the maximum shares of ${b.domains.join(', ')} (with their epoch caps) add up to ${hi.toFixed(4)}, less than 1`);
}

/** Euclidean projection onto {Σ w = 1, lo ≤ w ≤ hi}: w_i = clip(v_i − τ), τ found by bisection. */
export function projectToBounds(v: readonly number[], b: DomainBounds): number[] {
  const at = (tau: number) => v.map((x, i) => Math.min(b.hi[i]!, Math.max(b.lo[i]!, x - tau)));
  let low = Math.min(...v.map((x, i) => x - b.hi[i]!));
  let high = Math.max(...v.map((x, i) => x - b.lo[i]!));
  for (let it = 0; it < 100; it++) {
    const mid = (low + high) / 2;
    const s = at(mid).reduce((a, x) => a + x, 0);
    if (s > 1) low = mid;
    else high = mid;
  }
  return at((low + high) / 2);
}


/** Uniform on the constrained simplex by rejection (lo + (1 − Σlo) · Dirichlet(1)); projection when rejection keeps failing. */
function candidate(random: () => number, b: DomainBounds): number[] {
  const free = 1 - b.lo.reduce((a, x) => a + x, 0);
  for (let attempt = 0; attempt < 50; attempt++) {
    const e = b.lo.map(() => -Math.log(1 - random()));
    const s = e.reduce((a, x) => a + x, 0);
    const w = e.map((x, i) => b.lo[i]! + (free * x) / s);
    if (w.every((x, i) => x <= b.hi[i]! + 1e-12)) return w;
  }
  return projectToBounds(b.lo.map(() => random()), b);
}

function descend(model: MixModel, start: number[], b: DomainBounds, allowed: (w: number[]) => boolean): number[] {
  let w = start;
  let f = predictLoss(model, w);
  let step = 0.1;
  for (let it = 0; it < 2000 && step > 1e-12; it++) {
    const h = 1e-6;
    const grad = w.map((_, i) => {
      const up = [...w];
      const down = [...w];
      up[i]! += h;
      down[i]! -= h;
      return (predictLoss(model, up) - predictLoss(model, down)) / (2 * h);
    });
    const next = projectToBounds(w.map((x, i) => x - step * grad[i]!), b);
    const fn = predictLoss(model, next);
    if (fn < f - 1e-15 && allowed(next)) {
      w = next;
      f = fn;
      step *= 1.5;
    } else step /= 2;
  }
  return w;
}

export function proposeMix(model: MixModel, b: DomainBounds, options: { candidates?: number; topK?: number; seed?: number; evidence?: EvidenceRegion } = {}): MixProposal {
  checkBounds(b);
  const n = options.candidates ?? 20_000;
  const random = rng(options.seed ?? 0);
  const region = options.evidence;
  const allowed = region ? (w: number[]) => nearestRun(region, w).distance <= region.radius : () => true;
  const scored: { w: number[]; loss: number }[] = [];
  for (let i = 0; i < n; i++) {
    // Between two neighbouring runs, then into the bounds; kept only if still near a run.
    const w = region ? projectToBounds(evidenceCandidate(random, region), b) : candidate(random, b);
    if (allowed(w)) scored.push({ w, loss: predictLoss(model, w) });
  }
  if (scored.length === 0) {
    throw new RefineryError(`no mix within the share bounds is within ${region!.radius.toFixed(3)} (total variation) of a proxy run: the runs give no evidence there; train proxy runs inside the bounds, or search the whole constrained simplex with --search simplex`);
  }
  scored.sort((x, y) => x.loss - y.loss);
  const k = Math.min(options.topK ?? 100, scored.length);
  const top = scored.slice(0, k);
  const mean = b.domains.map((_, i) => top.reduce((a, c) => a + c.w[i]!, 0) / top.length);
  const starts = [scored[0]!.w, ...(allowed(mean) ? [mean] : [])];
  const refined = starts.map((s) => descend(model, s, b, allowed)).map((w) => ({ w, loss: predictLoss(model, w) })).sort((x, y) => x.loss - y.loss)[0]!;
  const named = (w: number[]) => Object.fromEntries(b.domains.map((d, i) => [d, Math.round(w[i]! * 1e6) / 1e6]));
  return {
    weights: named(refined.w),
    predicted_loss: refined.loss,
    top_k_mean: { k, weights: named(mean), predicted_loss: predictLoss(model, mean) },
    candidates: n,
    search: region ? 'evidence' : 'simplex',
  };
}
