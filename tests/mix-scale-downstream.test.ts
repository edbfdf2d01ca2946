import { test } from 'node:test';
import assert from 'node:assert/strict';
import { frontier, predictDownstream, sigmoidAccuracy, type Sigmoid, type TaskRun } from '../mixes/scaling/downstream-fit.ts';
import { fitScaling } from '../mixes/scaling/scale-fit.ts';
import { parseScalingRuns } from '../mixes/scaling/scaling-runs-csv.ts';
import { rng } from './fixtures/mixes/synthetic-census.ts';

const TRUE_SIGMOID: Sigmoid = { low: 0.25, high: 0.95, slope: 10, mid: 0.8 };
const trueNll = (flops: number) => 3 * flops ** -0.03;

/** Per compute budget, a compute-optimal run and three wasteful ones (higher NLL); accuracy from the sigmoid, with noise. */
function taskRuns(seed: number, budgets: number[]): TaskRun[] {
  const random = rng(seed);
  return budgets.flatMap((flops) =>
    [1, 1.05, 1.12, 1.2].map((waste) => {
      const nll = trueNll(flops) * waste * Math.exp((random() - 0.5) * 0.01);
      return { flops, nll, acc: sigmoidAccuracy(TRUE_SIGMOID, nll) + (random() - 0.5) * 0.01 };
    }),
  );
}

const BUDGETS = [1e19, 3e19, 1e20, 3e20, 1e21, 3e21];

test('the compute-optimal frontier keeps only runs better than every cheaper run', () => {
  const f = frontier([{ flops: 1, nll: 3, acc: 0 }, { flops: 1, nll: 2.5, acc: 0 }, { flops: 2, nll: 2.7, acc: 0 }, { flops: 3, nll: 2, acc: 0 }]);
  assert.deepEqual(f.map((r) => r.nll), [2.5, 2]);
});

test('predicts NLL and accuracy at 33× the largest run within its interval, deterministically for a seed', () => {
  const runs = taskRuns(1, BUDGETS);
  const p = predictDownstream(runs, 1e23, { bootstrap: 200, seed: 4 });
  const nll = trueNll(1e23);
  const acc = sigmoidAccuracy(TRUE_SIGMOID, nll);
  assert.ok(Math.abs(p.extrapolation - 1e23 / 3e21) < 1e-9);
  assert.ok(Math.abs(p.nll - nll) / nll < 0.02, `NLL ${p.nll} vs ${nll}`);
  assert.ok(Math.abs(p.accuracy - acc) < 0.03, `accuracy ${p.accuracy} vs ${acc}`);
  assert.ok(p.intervals.accuracy[0] <= p.accuracy && p.accuracy <= p.intervals.accuracy[1]);
  assert.deepEqual(predictDownstream(runs, 1e23, { bootstrap: 200, seed: 4 }), p);
});

test('mix scale with --compute reports each task that has nll_ and acc_ columns', () => {
  const runs = taskRuns(2, BUDGETS);
  // The loss law needs runs that vary params and tokens; give each run a split of its compute.
  const lines = ['params,flops,loss,nll_hellaswag,acc_hellaswag'];
  runs.forEach((r, i) => {
    const params = Math.sqrt(r.flops / 120) * [0.5, 1, 2, 4][i % 4]!;
    const tokens = r.flops / (6 * params);
    const loss = 1.69 + 406.4 / params ** 0.34 + 410.7 / tokens ** 0.28;
    lines.push(`${params},${r.flops},${loss},${r.nll},${r.acc}`);
  });
  const fit = fitScaling(parseScalingRuns(lines.join('\n') + '\n'), { compute: 1e23, bootstrap: 30 });
  const d = fit.downstream!.hellaswag!;
  assert.ok(Math.abs(d.accuracy - sigmoidAccuracy(TRUE_SIGMOID, trueNll(1e23))) < 0.03, `accuracy ${d.accuracy}`);
  assert.equal(fitScaling(parseScalingRuns(lines.join('\n') + '\n'), { bootstrap: 5 }).downstream, undefined, 'without --compute there is no target to predict at');
});
