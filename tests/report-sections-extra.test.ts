/**
 * The report's sections for what a run may hold beside documents: the scaling-law evidence of its
 * mix (scaling/fit.json and runs.csv, drawn as `mix scale --report` draws them), personal data
 * (pii, pii-sites) and benchmark contamination (decontam, decontam-index).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { predictLaw } from '../mixes/scaling/law-fit.ts';
import { fitScaling } from '../mixes/scaling/scale-fit.ts';
import { parseScalingRuns } from '../mixes/scaling/scaling-runs-csv.ts';
import { sigmoidAccuracy } from '../mixes/scaling/downstream-fit.ts';
import { stableJson } from '../pipeline/io/atomic.ts';
import { prepareConfig } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { writeRunReport } from '../mixes/report/index.ts';
import type { RunReport } from '../mixes/report/data.ts';
import { probePage } from './fixtures/mixes/headless-chromium.ts';
import { rng } from './fixtures/mixes/synthetic-census.ts';

registerBuiltinStages();

/** Runs at five sizes and two lengths, with a benchmark's NLL and accuracy (as tests/mix-scale-report.test.ts). */
function runsCsv(): string {
  const random = rng(5);
  const lines = ['run,params,tokens,loss,nll_arc,acc_arc'];
  for (const params of [1e7, 3e7, 1e8, 3e8, 1e9])
    for (const tokens of [2e9, 2e10]) {
      const loss = predictLaw({ E: 1.69, A: 406.4, B: 410.7, alpha: 0.34, beta: 0.28 }, params, tokens) * Math.exp((random() - 0.5) * 0.004);
      lines.push(`r${params}-${tokens},${params},${tokens},${loss},${0.5 * loss},${sigmoidAccuracy({ low: 0.25, high: 0.9, slope: 12, mid: 1.3 }, 0.5 * loss)}`);
    }
  return lines.join('\n') + '\n';
}

test('a run folder with scaling/fit.json and runs.csv gets the scaling charts, drawn in headless Chromium', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-scaling-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const run = join(dir, 'run');
  await mkdir(join(run, 'scaling'), { recursive: true });
  await writeFile(join(run, 'stats.json'), JSON.stringify({ totals: { in: 1, kept: 1, rejected: 0, errored: 0 }, stages: [] }));
  const csv = runsCsv();
  const fit = fitScaling(parseScalingRuns(csv, 'runs.csv'), { compute: 1e22, bootstrap: 20 });
  await writeFile(join(run, 'scaling', 'fit.json'), stableJson(fit));

  // The fit alone: the law and its intervals, and why there is no chart.
  await writeRunReport(run, join(run, 'report'));
  let md = await readFile(join(run, 'report', 'report.md'), 'utf8');
  assert.match(md, /## Scaling laws\n\n10 training runs, target loss/);
  assert.match(md, /No scaling\/runs\.csv beside the fit/);
  assert.match(md, /\| alpha \| 0\.3\d+ \|/);

  await writeFile(join(run, 'scaling', 'runs.csv'), csv);
  await writeRunReport(run, join(run, 'report'));
  md = await readFile(join(run, 'report', 'report.md'), 'utf8');
  assert.doesNotMatch(md, /No scaling\/runs\.csv/);
  const page = join(run, 'report', 'report.html');
  const html = await readFile(page, 'utf8');
  const scaling = html.slice(html.indexOf('<section id="scaling">'), html.indexOf('</section>', html.indexOf('<section id="scaling">')));
  // loss against compute, model size against compute, arc accuracy against NLL
  assert.equal(scaling.match(/<figure class="chart"/g)?.length, 3);
  const probe = await probePage(page);
  assert.deepEqual(probe.console, []);
  assert.equal(probe.charts.length, html.match(/<figure class="chart"/g)?.length);
  for (const c of probe.charts) assert.ok(c.width > 100 && c.height > 15 && c.marks > 3, JSON.stringify(c));
});

test('a run with pii, pii-sites and decontam has sections for the PII found, the sites dropped with their density and threshold, and the benchmark items found', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-pii-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const question = 'Which planet in the solar system has the largest number of known moons orbiting around it today';
  const docs = [
    ...Array.from({ length: 4 }, (_, i) => ({ id: `people-${i}`, url: `https://people.example/p${i}`, text: `Call Anna at anna${i}@gmail.com or write to bob${i}@yahoo.com, both reachable every day.` })),
    ...Array.from({ length: 4 }, (_, i) => ({ id: `news-${i}`, url: `https://news.example/a${i}`, text: `The weather today is mild with light winds from the west and clear skies over the hills ${i}.` })),
    { id: 'leak', url: 'https://quiz.example/1', text: `Quiz night. ${question}? Saturn, say the astronomers.` },
  ];
  await writeFile(join(dir, 'in.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  await writeFile(join(dir, 'evals.jsonl'), JSON.stringify({ id: 'q1', question }) + '\n');
  const config = await prepareConfig(
    { inputs: ['in.jsonl'], output: 'out', workers: 1, stages: ['pii', { stage: 'pii-sites', options: { max_density: 5, min_site_pii: 3 } }, { stage: 'decontam', options: { benchmarks: ['evals.jsonl'] } }] },
    { file: join(dir, 'p.yaml'), baseDir: dir },
  );
  const run = (await runPipeline(config, { quiet: true })).output;
  await writeRunReport(run, join(run, 'report'));
  const report = JSON.parse(await readFile(join(run, 'report', 'report.json'), 'utf8')) as RunReport;
  assert.ok(report.pii.available && report.pii.found && report.pii.sites);
  assert.deepEqual(report.pii.found.items, [{ type: 'email_address', count: 8 }]);
  assert.equal(report.pii.found.docs_with_pii, 4);
  assert.deepEqual(report.pii.sites.dropped.map((s) => s.host), ['people.example']);
  assert.equal(report.pii.sites.max_density, 5);
  assert.ok(report.contamination.available && report.contamination.items);
  assert.deepEqual(report.contamination.items.map((x) => [x.item, x.docs, x.dropped, x.sample_ids]), [['evals.jsonl:q1', 1, 1, ['leak']]]);
  const md = await readFile(join(run, 'report', 'report.md'), 'utf8');
  assert.match(md, /pii-sites: 1 of 3 sites \(URL hosts\) hold personal data; 1 had more than 5 PII items per 1,000 characters/);
  assert.match(md, /\| people\.example \| 4 \| 8 \|/);
  assert.match(md, /\| evals\.jsonl:q1 \| 1 \| 1 \| 0 \|/);
  assert.match(await readFile(join(run, 'report', 'report.html'), 'utf8'), /PII density of the dropped sites/);
});
