/**
 * `mix fit` on real proxy runs: RegMix's 512 1M-parameter runs on 17 domains of the Pile, checked
 * against the 256 other mixtures RegMix trained at 1M and 60M parameters and the 64 at 1B
 * (tests/fixtures/mixes/SOURCE.md). Target: Pile-CC validation loss, as in the paper.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitMix } from '../mixes/fit-mix.ts';
import { spearman } from '../mixes/rank-correlation.ts';
import { tvDistance } from '../mixes/regmix-evidence.ts';
import { fitModel, MODEL_KINDS, predictLoss, type ModelKind } from '../mixes/regmix-model.ts';
import { readProxyRuns, type ProxyRuns } from '../mixes/runs-csv.ts';

const fixture = (name: string) => new URL(`./fixtures/mixes/${name}`, import.meta.url).pathname;
const pileCc = (runs: ProxyRuns) => runs.loss.map((l) => l.pile_cc!);

/** Held-out Spearman correlation of each family, fitted on the 512 training runs (the levels docs/mixes.md reports). */
const HELD_OUT_SPEARMAN_AT_LEAST: Record<ModelKind, Record<string, number>> = {
  linear: { '1m': 0.895, '60m': 0.885, '1b': 0.87 },
  'log-linear': { '1m': 0.9, '60m': 0.89, '1b': 0.88 },
  quadratic: { '1m': 0.945, '60m': 0.945, '1b': 0.91 },
  'boosted-trees': { '1m': 0.985, '60m': 0.98, '1b': 0.95 },
};

test('fitted on the 512 1M runs, each family ranks the held-out 1M, 60M and 1B runs at its measured level', async () => {
  const train = await readProxyRuns(fixture('regmix-pile-1m-train.csv'));
  const held = {
    '1m': await readProxyRuns(fixture('regmix-pile-1m-test.csv')),
    '60m': await readProxyRuns(fixture('regmix-pile-60m-test.csv')),
    '1b': await readProxyRuns(fixture('regmix-pile-1b-test.csv')),
  };
  for (const kind of MODEL_KINDS) {
    const model = fitModel(kind, train.domains, train.weights, pileCc(train));
    const line: string[] = [];
    for (const [scale, runs] of Object.entries(held)) {
      assert.deepEqual(runs.domains, train.domains);
      const rho = spearman(runs.weights.map((w) => predictLoss(model, w)), pileCc(runs));
      line.push(`${scale} ${rho.toFixed(4)}`);
      assert.ok(rho >= HELD_OUT_SPEARMAN_AT_LEAST[kind][scale]!, `${kind} on ${scale}: ${rho}`);
    }
    console.log(`regmix held-out Spearman, ${kind}: ${line.join(', ')}`);
  }
});

test('on the real runs the proposal stays within the evidence; searching the whole simplex leaves it, and says so', async () => {
  const train = await readProxyRuns(fixture('regmix-pile-1m-train.csv'));
  // The quadratic regression extrapolates: its optimum over the whole simplex is where no run was trained.
  const near = fitMix(train, { target: 'pile_cc', model: 'quadratic', candidates: 4000, seed: 1 });
  const far = fitMix(train, { target: 'pile_cc', model: 'quadratic', candidates: 4000, seed: 1, search: 'simplex' });
  console.log(`regmix quadratic proposal: evidence search ${near.evidence.distance.toFixed(3)} from the nearest run (radius ${near.evidence.radius.toFixed(3)}), predicted ${near.proposal.predicted_loss.toFixed(3)}; simplex search ${far.evidence.distance.toFixed(3)}, predicted ${far.proposal.predicted_loss.toFixed(3)}; best run ${near.best_run.loss.toFixed(3)}`);

  // The distance is measured here again, from the proposal and the runs, not taken from the fit.
  const proposed = train.domains.map((d) => near.proposal.weights[d]!);
  const nearest = Math.min(...train.weights.map((w) => tvDistance(w, proposed)));
  assert.ok(nearest <= near.evidence.radius + 1e-5, `the proposal is ${nearest} from the nearest run, radius ${near.evidence.radius}`);
  assert.equal(near.evidence.within, true);
  assert.ok(!near.warnings.some((w) => /extrapolating/.test(w)));

  assert.equal(far.evidence.within, false);
  assert.ok(far.evidence.distance > 2 * far.evidence.radius, 'the unconstrained optimum of the fitted surface is a corner no run came near');
  assert.ok(far.warnings.some((w) => /beyond the .* that 95% of runs are from their nearest neighbour/.test(w)), far.warnings.join('\n'));
  assert.ok(far.warnings.some((w) => /below every measured run's/.test(w)), 'a predicted loss far below every run is flagged');
});

test('on the real runs cross-validation chooses the boosted trees, as the held-out tables would, and their proposal is near a run', async () => {
  const train = await readProxyRuns(fixture('regmix-pile-1m-train.csv'));
  const fit = fitMix(train, { target: 'pile_cc', candidates: 4000, seed: 1 });
  for (const m of fit.compared) console.log(`  ${m.kind}: 5-fold Spearman ${m.cv_spearman.toFixed(4)}, CV RMSE ${m.cv_rmse.toFixed(4)}`);
  console.log(`regmix chosen ${fit.model.kind}: proposal ${fit.evidence.distance.toFixed(3)} from the nearest run, predicted ${fit.proposal.predicted_loss.toFixed(3)}, best run ${fit.best_run.loss.toFixed(3)}`);
  assert.equal(fit.model.kind, 'boosted-trees');
  assert.deepEqual(fit.compared.map((m) => m.kind), ['boosted-trees', 'quadratic', 'log-linear', 'linear']);
  assert.equal(fit.evidence.within, true);
});

test('spearman: ties take their mean rank; a monotone relation is 1, a reversed one −1', () => {
  assert.equal(spearman([1, 2, 2, 3], [10, 20, 20, 30]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
  assert.ok(Math.abs(spearman([1, 2, 2, 3], [1, 3, 2, 4]) - 0.9486832980505138) < 1e-12);
});
