import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeRunReport } from '../mixes/report/index.ts';
import { writeSyntheticRun } from './fixtures/mixes/synthetic-run.ts';
import { probePage } from './fixtures/mixes/headless-chromium.ts';

test('report.html renders every chart as a non-empty SVG in headless Chromium, with no console errors', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-html-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeSyntheticRun(join(dir, 'run'));
  await writeRunReport(join(dir, 'run'), join(dir, 'report'));
  const html = await readFile(join(dir, 'report', 'report.html'), 'utf8');
  assert.doesNotMatch(html, /<script|\s(src|href)="https?:/i, 'self-contained: no script, nothing fetched');
  const figures = html.match(/<figure class="chart"/g)?.length ?? 0;
  // funnel ×2, funnel per source, per language, quality_score histogram, dedup, languages, quality score, buckets, shares, epochs
  assert.equal(figures, 11);

  const probe = await probePage(join(dir, 'report', 'report.html'));
  assert.deepEqual(probe.console, []);
  assert.equal(probe.charts.length, figures);
  for (const c of probe.charts) {
    assert.ok(c.width > 100 && c.height > 50, `chart box ${c.width}×${c.height}`);
    assert.ok(c.marks > 10, `chart has ${c.marks} drawn marks`);
  }
});

test('the Chromium probe does catch a page that loads a remote resource', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-html-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const page = join(dir, 'bad.html');
  await writeFile(page, `<!doctype html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'"></head><body><img src="http://192.0.2.1/x.png"><figure class="chart"><svg width="10" height="10"></svg></figure></body></html>`);
  const probe = await probePage(page);
  assert.equal(probe.console.length, 1);
  assert.equal(probe.charts[0]!.marks, 0);
});
