import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fitMix, targetValues } from '../mixes/fit-mix.ts';
import { writeFitReport } from '../mixes/fit-mix-report.ts';
import { parseProxyRuns } from '../mixes/runs-csv.ts';
import { probePage } from './fixtures/mixes/headless-chromium.ts';
import { rng } from './fixtures/mixes/synthetic-census.ts';

/** 40 runs on random mixes of three domains; loss falls with `a`, so the whole-simplex optimum is a corner no run is near. */
function runsCsv(): string {
  const random = rng(9);
  const lines = ['run,w_a,w_b,w_c,loss_val'];
  for (let i = 0; i < 40; i++) {
    const e = [0, 1, 2].map(() => -Math.log(1 - random()) * (0.3 + random()));
    const s = e.reduce((x, y) => x + y, 0);
    const w = e.map((x) => (x / s) * 0.7 + 0.1);
    lines.push(`r${i},${w.join(',')},${(3 - 0.8 * w[0]! + 0.3 * w[1]! + (random() - 0.5) * 0.01).toFixed(5)}`);
  }
  return lines.join('\n') + '\n';
}

test('the mix fit report draws the proxy runs against the proposal and renders in headless Chromium', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mix-fit-report-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const runs = parseProxyRuns(runsCsv(), 'runs.csv');
  const fit = fitMix(runs, { model: 'linear', search: 'simplex', candidates: 2000 });
  assert.equal(fit.evidence.within, false, 'the whole-simplex proposal is beyond the evidence, and the page says so');
  const path = await writeFitReport(fit, runs, targetValues(runs).y, 'runs.csv', dir);
  const html = await readFile(path, 'utf8');
  assert.match(html, /Warning: the proposal is [\d.]+ \(total variation\) from the nearest proxy run/);
  assert.doesNotMatch(html, /<script|\s(src|href)="https?:/i, 'self-contained: no script, nothing fetched');
  const probe = await probePage(path);
  assert.deepEqual(probe.console, []);
  assert.equal(probe.charts.length, 2);
  for (const c of probe.charts) {
    assert.ok(c.width > 100 && c.height > 50, `chart box ${c.width}×${c.height}`);
    assert.ok(c.marks > 10, `chart has ${c.marks} drawn marks`);
  }
});
