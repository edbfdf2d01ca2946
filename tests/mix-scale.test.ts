import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../bin/cli.ts';
import { computeOptimal, predictLaw, type Law } from '../mixes/scaling/law-fit.ts';
import { minimizeLbfgs } from '../mixes/scaling/lbfgs.ts';
import { fitScaling, type ScaleResult } from '../mixes/scaling/scale-fit.ts';
import { parseScalingRuns } from '../mixes/scaling/scaling-runs-csv.ts';
import { InputError } from '../pipeline/errors.ts';
import { captureStderr } from './capture-stderr.ts';
import { rng } from './fixtures/mixes/synthetic-census.ts';

/** Hoffmann et al.'s published law, used as the truth of the synthetic runs. */
const TRUE_LAW: Law = { E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 };

/** Runs on an IsoFLOP-like grid, loss = law · exp(noise) with multiplicative noise of ±`noise`. */
function syntheticRunsCsv(noise: number, seed: number): string {
  const random = rng(seed);
  const lines = ['run,params,tokens,loss'];
  for (const params of [2e7, 5e7, 1e8, 2e8, 5e8, 1e9])
    for (const tokens of [5e8, 2e9, 8e9, 3e10]) {
      const loss = predictLaw(TRUE_LAW, params, tokens) * Math.exp((random() - 0.5) * 2 * noise);
      lines.push(`r${lines.length},${params},${tokens},${loss.toFixed(6)}`);
    }
  return lines.join('\n') + '\n';
}

test('L-BFGS finds the minimum of the Rosenbrock function', () => {
  const r = minimizeLbfgs((x) => {
    const [a, b] = x as [number, number];
    return { value: (1 - a) ** 2 + 100 * (b - a * a) ** 2, gradient: [-2 * (1 - a) - 400 * a * (b - a * a), 200 * (b - a * a)] };
  }, [-1.2, 1]);
  assert.ok(Math.abs(r.x[0]! - 1) < 1e-3 && Math.abs(r.x[1]! - 1) < 1e-3, JSON.stringify(r));
});

test('the fit recovers the law the runs were drawn from, and its intervals cover it', () => {
  const fit = fitScaling(parseScalingRuns(syntheticRunsCsv(0.002, 1)), { bootstrap: 200, seed: 3 });
  assert.ok(Math.abs(fit.law.E - TRUE_LAW.E) < 0.05, `E ${fit.law.E}`);
  assert.ok(Math.abs(fit.law.alpha - TRUE_LAW.alpha) < 0.03, `alpha ${fit.law.alpha}`);
  assert.ok(Math.abs(fit.law.beta - TRUE_LAW.beta) < 0.03, `beta ${fit.law.beta}`);
  for (const p of ['E', 'alpha', 'beta'] as const) {
    const [lo, hi] = fit.intervals[p];
    assert.ok(lo <= TRUE_LAW[p] && TRUE_LAW[p] <= hi, `${p}: ${TRUE_LAW[p]} outside ${lo}–${hi}`);
  }
  assert.equal(fit.residuals.length, 24);
  assert.ok(fit.fit_quality.rmse < 0.01, `rmse ${fit.fit_quality.rmse}`);
});

test('compute-optimal split: C = 6ND holds and no other split at the same compute has a lower loss', () => {
  const at = computeOptimal(TRUE_LAW, 1e22);
  assert.ok(Math.abs(6 * at.params * at.tokens - 1e22) / 1e22 < 1e-12);
  for (const f of [0.5, 0.8, 1.25, 2]) {
    const n = at.params * f;
    assert.ok(predictLaw(TRUE_LAW, n, 1e22 / (6 * n)) > at.loss);
  }
});

test('the bootstrap is deterministic for a seed and changes with it', () => {
  const runs = parseScalingRuns(syntheticRunsCsv(0.01, 2));
  const a = fitScaling(runs, { bootstrap: 50, seed: 7, compute: 1e21 });
  const b = fitScaling(runs, { bootstrap: 50, seed: 7, compute: 1e21 });
  const c = fitScaling(runs, { bootstrap: 50, seed: 8, compute: 1e21 });
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.intervals.alpha, c.intervals.alpha);
  const co = a.compute_optimal!;
  assert.ok(co.intervals.loss[0] <= co.loss && co.loss <= co.intervals.loss[1]);
  assert.ok(co.extrapolation > 1, 'the target is beyond every run');
});

test('runs.csv: flops give tokens = flops / 6N; a missing column names the file and the column; a bad value names the line', () => {
  const runs = parseScalingRuns('run,params,flops,loss\na,1e8,6e18,3.1\n', 'r.csv');
  assert.equal(runs.runs[0]!.tokens, 1e10);
  assert.throws(() => parseScalingRuns('run,params,loss\na,1e8,3\n', 'r.csv'), (e: unknown) => e instanceof InputError && /^r\.csv:1: missing column "tokens"/.test(e.message));
  assert.throws(() => parseScalingRuns('run,tokens,loss\na,1e8,3\n', 'r.csv'), (e: unknown) => e instanceof InputError && /^r\.csv:1: missing column "params"/.test(e.message));
  assert.throws(() => parseScalingRuns('run,params,tokens\na,1e8,3e9\n', 'r.csv'), (e: unknown) => e instanceof InputError && /^r\.csv:1: missing column "loss"/.test(e.message));
  assert.throws(() => parseScalingRuns('run,params,tokens,loss\na,1e8,3e9,2\n\nb,1e8,-1,2\n', 'r.csv'), (e: unknown) => e instanceof InputError && e.message === 'r.csv:4: column tokens must be above 0, is -1');
  const two = parseScalingRuns('params,tokens,loss_web,loss_code\n1e8,3e9,2,1\n', 'r.csv');
  assert.throws(() => fitScaling(two), /several loss columns .*--target/);
});

function captureStdout(t: { after: (fn: () => void) => void }): { text: () => string } {
  const chunks: string[] = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array) => {
    chunks.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  t.after(() => {
    process.stdout.write = write;
  });
  return { text: () => chunks.join('') };
}

test('refinery mix scale: prints the law, the compute-optimal model and row N: <loss>, writes fit.json', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mix-scale-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'runs.csv'), syntheticRunsCsv(0.002, 4));
  await writeFile(join(dir, 'big.csv'), 'params,tokens\n7e10,1.4e12\n\n1e9,2e10\n');
  const stdout = captureStdout(t);
  const code = await main(['node', 'refinery', 'mix', 'scale', join(dir, 'runs.csv'), '--compute', '5.76e23', '--bootstrap', '40', '--predict', join(dir, 'big.csv'), '-o', join(dir, 'fit.json')]);
  const text = stdout.text();
  assert.equal(code, 0, text);
  const fit = JSON.parse(await readFile(join(dir, 'fit.json'), 'utf8')) as ScaleResult;
  assert.deepEqual(Object.keys(fit.law).sort(), ['A', 'B', 'E', 'alpha', 'beta']);
  assert.equal(fit.intervals.bootstrap, 40);
  assert.equal(fit.compute_optimal!.compute, 5.76e23);
  assert.equal(fit.residuals.length, 24);
  assert.match(text, /compute-optimal at 5\.76e\+23 FLOPs/);
  assert.match(text, new RegExp(`row 2: ${predictLaw(fit.law, 7e10, 1.4e12).toFixed(4)}\\n`));
  assert.match(text, /row 4: \d\.\d{4}\n/, 'rows are numbered by their file line, blank lines counted');

  const stderr = captureStderr(t);
  await writeFile(join(dir, 'bad.csv'), 'run,params,loss\na,1e8,3\n');
  assert.equal(await main(['node', 'refinery', 'mix', 'scale', join(dir, 'bad.csv')]), 1);
  assert.match(stderr.text(), /bad\.csv:1: missing column "tokens"/);
});
