import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitMix } from '../mixes/fit-mix.ts';
import { parseProxyRuns } from '../mixes/runs-csv.ts';
import { parseMixConfig } from '../mixes/mix-config.ts';
import { InputError } from '../pipeline/errors.ts';
import { projectToBounds } from '../mixes/regmix-search.ts';
import { rng } from './fixtures/mixes/synthetic-census.ts';

const DOMAINS = ['general', 'code', 'math', 'multilingual'];
/** The known optimum of the synthetic loss surface (Llama 3's published final mix). */
const OPTIMUM = [0.5, 0.17, 0.25, 0.08];
const CURVATURE = [2, 6, 4, 8];

/** Proxy runs on random Dirichlet mixes; loss = 2.1 + Σ a_i (w_i − w*_i)² + noise, on two eval sets. */
function syntheticRunsCsv(n: number, noise: number, seed: number): string {
  const random = rng(seed);
  const lines = [['run', ...DOMAINS.map((d) => `w_${d}`), 'loss_web', 'loss_books'].join(',')];
  for (let r = 0; r < n; r++) {
    const e = DOMAINS.map(() => -Math.log(1 - random()));
    const s = e.reduce((a, b) => a + b, 0);
    const w = e.map((x) => x / s);
    const base = 2.1 + w.reduce((a, x, i) => a + CURVATURE[i]! * (x - OPTIMUM[i]!) ** 2, 0);
    const jitter = () => (random() - 0.5) * 2 * noise;
    lines.push([`run-${r}`, ...w.map((x) => x.toFixed(6)), (base + jitter()).toFixed(6), (base + 0.3 + jitter()).toFixed(6)].join(','));
  }
  return lines.join('\n') + '\n';
}

test('fits the synthetic runs and proposes a mix within 0.02 of the known optimum', () => {
  const runs = parseProxyRuns(syntheticRunsCsv(64, 0.002, 3));
  const fit = fitMix(runs, { seed: 1, candidates: 5000 });
  assert.equal(fit.model.kind, 'quadratic', `compared: ${JSON.stringify(fit.compared)}`);
  assert.ok(fit.model.r2 > 0.95);
  DOMAINS.forEach((d, i) => assert.ok(Math.abs(fit.proposal.weights[d]! - OPTIMUM[i]!) < 0.02, `${d}: ${fit.proposal.weights[d]} vs ${OPTIMUM[i]}`));
  const sum = Object.values(fit.proposal.weights).reduce((a, b) => a + b, 0);
  assert.ok(Math.abs(sum - 1) < 1e-5);
  assert.ok(fit.proposal.predicted_loss <= fit.best_run.loss + 0.01, 'the proposal is at least as good as the best trained run');
});

test('the proposal respects the mix.yaml constraints: a capped domain sits on its bound', () => {
  const runs = parseProxyRuns(syntheticRunsCsv(64, 0.002, 4));
  const config = parseMixConfig({ total_tokens: '1T', shares: { math: { min: 0, max: 0.1 } } });
  const fit = fitMix(runs, { config, seed: 1, candidates: 5000 });
  assert.ok(fit.proposal.weights.math! <= 0.1 + 1e-9);
  assert.ok(fit.proposal.weights.math! > 0.099, 'the loss still wants more math, so the cap binds');
  assert.deepEqual(fit.bounds.math, { min: 0, max: 0.1 });
});

test('a named target column is used; an unknown one is an error', () => {
  const runs = parseProxyRuns(syntheticRunsCsv(40, 0.001, 5));
  assert.equal(fitMix(runs, { target: 'books', candidates: 1000 }).target, 'books');
  assert.throws(() => fitMix(runs, { target: 'nope' }), /loss_nope/);
});

test('too few runs for the model is an error, not a fit', () => {
  const runs = parseProxyRuns(syntheticRunsCsv(5, 0.001, 6));
  assert.throws(() => fitMix(runs, { model: 'quadratic' }), /too few/);
});

test('projection keeps weights on the simplex and inside their bounds', () => {
  const w = projectToBounds([0.9, 0.9, -0.3], { domains: ['a', 'b', 'c'], lo: [0, 0, 0.1], hi: [0.6, 1, 1] });
  assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-9);
  assert.ok(w[0]! <= 0.6 + 1e-12 && w[2]! >= 0.1 - 1e-12);
});

test('runs.csv: quoted fields, CRLF and blank lines parse; errors name the file line, counting blank lines', () => {
  const runs = parseProxyRuns('\ufeffrun,w_web,w_code,loss_web\r\n"run 1, the ""first""",3,1,2.5\r\n\r\nrun-2,1,1,2.75\r\n');
  assert.deepEqual(runs.domains, ['web', 'code']);
  assert.deepEqual(runs.weights, [[0.75, 0.25], [0.5, 0.5]]);
  assert.deepEqual(runs.loss, [{ web: 2.5 }, { web: 2.75 }]);
  assert.throws(() => parseProxyRuns('run,w_a,w_b,loss_x\nr1,1,1,2\n\nr2,1,x,2\n', 'runs.csv'), (e: unknown) => e instanceof InputError && e.message === 'runs.csv:4: column w_b is not a number: "x"');
  assert.throws(() => parseProxyRuns('run,w_a,w_b,loss_x\nr1,1,1,2\nr2,1,"1,2\n', 'runs.csv'), (e: unknown) => e instanceof InputError && /^runs\.csv:\d+: not valid CSV: Quote Not Closed/.test(e.message));
});
