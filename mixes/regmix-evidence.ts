/**
 * Where the proxy runs give evidence: mixes near a trained mix. A regression fitted on proxy runs
 * is only checked where runs were trained; far from them (a corner of the simplex no run came
 * near) its predicted loss can be anything. Distances are total variation, ½ Σ |w_i − v_i| (0:
 * the same mix, 1: no domain in common). The radius is a quantile of the runs' distances to
 * their nearest other run: with the default 0.95, a mix within it is no farther from a trained
 * mix than 95% of the trained mixes are from each other.
 */

export interface EvidenceRegion {
  runs: readonly (readonly number[])[];
  radius: number;
  quantile: number;
  /** Per run, the indices of its NEIGHBOURS nearest other runs. */
  neighbours: number[][];
}

const NEIGHBOURS = 5;

export function tvDistance(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += Math.abs(a[i]! - b[i]!);
  return s / 2;
}

export function nearestRun(region: EvidenceRegion, w: readonly number[]): { index: number; distance: number } {
  let index = 0;
  let distance = Infinity;
  region.runs.forEach((r, i) => {
    const d = tvDistance(r, w);
    if (d < distance) {
      distance = d;
      index = i;
    }
  });
  return { index, distance };
}

export function evidenceRegion(runs: readonly (readonly number[])[], quantile = 0.95): EvidenceRegion {
  const neighbours: number[][] = [];
  const nearest: number[] = [];
  runs.forEach((w, i) => {
    const byDistance = runs.map((v, j) => ({ j, d: j === i ? Infinity : tvDistance(w, v) })).sort((a, b) => a.d - b.d);
    neighbours.push(byDistance.slice(0, Math.min(NEIGHBOURS, runs.length - 1)).map((x) => x.j));
    nearest.push(byDistance[0]!.d);
  });
  const sorted = nearest.filter(Number.isFinite).sort((a, b) => a - b);
  const radius = sorted.length ? sorted[Math.min(sorted.length - 1, Math.ceil(quantile * sorted.length) - 1)]! : 0;
  return { runs, radius, quantile, neighbours };
}

/** A mix on the segment between a random run and one of its nearest neighbours: inside the runs' own distribution. */
export function evidenceCandidate(random: () => number, region: EvidenceRegion): number[] {
  const i = Math.floor(random() * region.runs.length);
  const near = region.neighbours[i]!;
  const j = near.length ? near[Math.floor(random() * near.length)]! : i;
  const t = random();
  return region.runs[i]!.map((x, k) => t * x + (1 - t) * region.runs[j]![k]!);
}
