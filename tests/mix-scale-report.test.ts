import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sigmoidAccuracy } from '../mixes/scaling/downstream-fit.ts';
import { predictLaw } from '../mixes/scaling/law-fit.ts';
import { fitScaling } from '../mixes/scaling/scale-fit.ts';
import { writeScaleReport } from '../mixes/scaling/scale-report.ts';
import { parseScalingRuns } from '../mixes/scaling/scaling-runs-csv.ts';
import { probePage } from './fixtures/mixes/headless-chromium.ts';
import { rng } from './fixtures/mixes/synthetic-census.ts';

/** Two mixes at five sizes and two lengths, with a benchmark's NLL and accuracy. */
function runsCsv(): string {
  const random = rng(5);
  const lines = ['run,params,tokens,w_web,w_code,loss,nll_arc,acc_arc'];
  for (const [mix, w, shift] of [['web', [0.9, 0.1], 0], ['code', [0.6, 0.4], 0.03]] as const)
    for (const params of [1e7, 3e7, 1e8, 3e8, 1e9])
      for (const tokens of [2e9, 2e10]) {
        const loss = predictLaw({ E: 1.69 + shift, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 }, params, tokens) * Math.exp((random() - 0.5) * 0.004);
        const nll = 0.5 * loss;
        lines.push(`${mix},${params},${tokens},${w[0]},${w[1]},${loss},${nll},${sigmoidAccuracy({ low: 0.25, high: 0.9, slope: 12, mid: 1.3 }, nll)}`);
      }
  return lines.join('\n') + '\n';
}

test('the scaling report renders every chart as a non-empty SVG in headless Chromium, with no console errors', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mix-scale-report-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const runs = parseScalingRuns(runsCsv(), 'runs.csv');
  const fit = fitScaling(runs, { compute: 1e22, bootstrap: 30 });
  const path = await writeScaleReport(fit, runs, dir);
  const html = await readFile(path, 'utf8');
  assert.doesNotMatch(html, /<script|\s(src|href)="https?:/i, 'self-contained: no script, nothing fetched');
  // loss against compute, model size against compute, arc accuracy against NLL, the mixes at the target
  assert.equal(html.match(/<figure class="chart"/g)?.length, 4);

  const probe = await probePage(path);
  assert.deepEqual(probe.console, []);
  assert.equal(probe.charts.length, 4);
  for (const c of probe.charts) {
    assert.ok(c.width > 100 && c.height > 50, `chart box ${c.width}×${c.height}`);
    assert.ok(c.marks > 10, `chart has ${c.marks} drawn marks`);
  }
});
