/**
 * `mix scale` on real runs: the 245 Chinchilla training runs of Hoffmann et al. 2022 as
 * reconstructed by Besiroglu et al. 2024 (tests/fixtures/mixes/SOURCE.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapLaw, computeOptimal, fitLaw, lawIntervals, percentileInterval, predictLaw, type Law, type LawPoint } from '../mixes/scaling/law-fit.ts';
import { readScalingRuns } from '../mixes/scaling/scaling-runs-csv.ts';

const FIXTURE = new URL('./fixtures/mixes/chinchilla-approach3-epoch.csv', import.meta.url).pathname;

/** Besiroglu et al.'s fit of the same grid and L-BFGS on the 240 runs left after dropping the 5 of highest loss (their notebook). */
const REPLICATION_GRID_FIT: Law = { E: 1.817, A: 477.84, B: 2143.86, alpha: 0.3473, beta: 0.3672 };

async function chinchillaRuns(): Promise<(LawPoint & { flops: number })[]> {
  const runs = await readScalingRuns(FIXTURE);
  return runs.runs.map((r) => ({ params: r.params, tokens: r.tokens, loss: r.losses.loss!, flops: r.flops }));
}

/** Besiroglu et al.'s 95% bootstrap intervals on those 240 runs (4,000 refits). */
const REPLICATION_INTERVALS = { E: [1.769, 1.871], A: [285.214, 743.626], B: [1042.357, 5810.344], alpha: [0.317, 0.373], beta: [0.331, 0.415] } as const;

test('on the 240 runs Besiroglu et al. fit, the law and its bootstrap intervals are theirs', async () => {
  const all = await chinchillaRuns();
  const cut = [...all.map((p) => p.loss)].sort((a, b) => b - a)[4]!;
  const fit = fitLaw(all.filter((p) => p.loss < cut));
  const law = fit.law;
  console.log(`chinchilla, 240 runs: E ${law.E.toFixed(4)} A ${law.A.toFixed(2)} B ${law.B.toFixed(2)} alpha ${law.alpha.toFixed(4)} beta ${law.beta.toFixed(4)}`);
  assert.ok(Math.abs(law.E - REPLICATION_GRID_FIT.E) < 0.002, `E ${law.E}`);
  assert.ok(Math.abs(law.alpha - REPLICATION_GRID_FIT.alpha) < 0.001, `alpha ${law.alpha}`);
  assert.ok(Math.abs(law.beta - REPLICATION_GRID_FIT.beta) < 0.001, `beta ${law.beta}`);
  assert.ok(Math.abs(law.A / REPLICATION_GRID_FIT.A - 1) < 0.01, `A ${law.A}`);
  assert.ok(Math.abs(law.B / REPLICATION_GRID_FIT.B - 1) < 0.01, `B ${law.B}`);

  const boot = bootstrapLaw(all.filter((p) => p.loss < cut), fit, { replicates: 200, seed: 0 });
  const intervals = lawIntervals(boot);
  for (const p of ['E', 'A', 'B', 'alpha', 'beta'] as const) {
    const [lo, hi] = intervals[p];
    const [plo, phi] = REPLICATION_INTERVALS[p];
    console.log(`  ${p}: ${lo.toPrecision(4)}–${hi.toPrecision(4)} (theirs ${plo}–${phi})`);
    // Bounds of 200 refits against theirs of 4,000: within a fifth of their interval's width (B's upper tail is long: a third).
    const slack = (phi - plo) * (p === 'B' ? 0.34 : 0.2);
    assert.ok(Math.abs(lo - plo) < slack && Math.abs(hi - phi) < slack, `${p}: ${lo}–${hi} vs ${plo}–${phi}`);
  }

  // Chinchilla itself: 70B parameters on 1.4T tokens, 5.76e23 FLOPs.
  const chinchilla = computeOptimal(law, 5.76e23);
  const params = percentileInterval(boot.laws.map((l) => computeOptimal(l, 5.76e23).params), 0.95);
  console.log(`  compute-optimal at 5.76e23 FLOPs: ${(chinchilla.params / 1e9).toFixed(1)}B params (${(params[0] / 1e9).toFixed(1)}–${(params[1] / 1e9).toFixed(1)}B), ${(chinchilla.tokens / 1e12).toFixed(2)}T tokens`);
  assert.ok(params[0] < 70e9 && 70e9 < params[1], 'the interval holds Chinchilla\'s 70B');
  assert.ok(Math.abs(chinchilla.params / 70e9 - 1) < 0.1, `${chinchilla.params}`);
});

test('fitted on the runs of at most 1e21 FLOPs, the law predicts the 23 larger runs (up to 13× the compute) within 0.035 mean absolute error', async () => {
  const all = await chinchillaRuns();
  const train = all.filter((p) => p.flops <= 1e21);
  const held = all.filter((p) => p.flops > 1e21);
  assert.equal(held.length, 23);
  const fit = fitLaw(train);
  const errors = held.map((p) => predictLaw(fit.law, p.params, p.tokens) - p.loss);
  const mae = errors.reduce((a, e) => a + Math.abs(e), 0) / errors.length;
  const max = Math.max(...errors.map(Math.abs));
  const mape = held.reduce((a, p, i) => a + Math.abs(errors[i]!) / p.loss, 0) / held.length;
  console.log(`chinchilla held out: ${held.length} runs above 1e21 FLOPs, MAE ${mae.toFixed(4)}, max ${max.toFixed(4)}, MAPE ${(100 * mape).toFixed(2)}%`);
  assert.ok(mae < 0.035, `MAE ${mae}`);
  assert.ok(max < 0.095, `max ${max}`);
  assert.ok(mape < 0.015, `MAPE ${mape}`);
  // For scale: the two papers' laws, fitted on every run (these 23 included), on the same runs.
  const published: Record<string, Law> = {
    'Hoffmann et al.': { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 },
    'Besiroglu et al.': { E: 1.82, A: 482.01, B: 2085.43, alpha: 0.3478, beta: 0.3658 },
  };
  for (const [who, law] of Object.entries(published)) {
    const m = held.reduce((a, p) => a + Math.abs(predictLaw(law, p.params, p.tokens) - p.loss), 0) / held.length;
    console.log(`  ${who}'s law (fitted on all runs) on the same runs: MAE ${m.toFixed(4)}`);
  }
});
