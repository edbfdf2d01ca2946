import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { collectRunReport, isScoreField } from '../mixes/report/data.ts';
import { RefineryError } from '../pipeline/errors.ts';
import { main } from '../bin/cli.ts';
import { writeRunReport } from '../mixes/report/index.ts';
import { writeSyntheticRun } from './fixtures/mixes/synthetic-run.ts';
import { captureStderr } from './capture-stderr.ts';

test('a run folder with only stats.json reports the funnel and says every other part was not run', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-data-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(
    join(dir, 'stats.json'),
    JSON.stringify({ totals: { in: 10, kept: 7, rejected: 3, errored: 0 }, stages: [{ name: 'gopher', kind: 'filter', in: 10, kept: 7, rejected: 3, errored: 0, bytes_in: 4000, bytes_out: 2800, seconds: 0.1, reasons: { short_doc: 2, symbols: 1 } }] }),
  );
  const r = await collectRunReport(dir);
  assert.ok(r.funnel.available);
  assert.equal(r.funnel.stages[0]!.tokens_removed_estimate, 300);
  assert.deepEqual(r.funnel.rules.map((x) => [x.rule, x.docs]), [['short_doc', 2], ['symbols', 1]]);
  for (const part of [r.dedup, r.languages, r.quality_scores, r.buckets, r.shares, r.epochs, r.binding_constraints]) {
    assert.equal(part.available, false);
    if (!part.available) assert.match(part.note, /not run/);
  }
  await writeRunReport(dir, join(dir, 'report'));
  const md = await readFile(join(dir, 'report', 'report.md'), 'utf8');
  assert.match(md, /## Planned vs achieved shares\n\nnot run: no plan\.json/);
});

test('collectRunReport on an empty folder says nothing was run; writeRunReport refuses it and a missing folder', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-data-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'run'));
  const r = await collectRunReport(join(dir, 'run'));
  assert.equal(r.funnel.available, false);
  if (!r.funnel.available) assert.match(r.funnel.note, /no stats\.json/);
  await assert.rejects(writeRunReport(join(dir, 'run'), join(dir, 'out')), (e: Error) => e instanceof RefineryError && e.message.includes(join(dir, 'run')) && /no stats\.json/.test(e.message));
  await assert.rejects(access(join(dir, 'out')));
  const stderr = captureStderr(t);
  assert.equal(await main(['node', 'refinery', 'report', join(dir, 'nowhere'), '-o', join(dir, 'out')]), 1);
  assert.ok(stderr.text().includes(`${join(dir, 'nowhere')}: no such folder`), stderr.text());
  await assert.rejects(access(join(dir, 'out')));
});

test('the quality stage\'s meta.quality is a quality-score field, with *score* fields; other numbers are not', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-data-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'kept'));
  const docs = [0.1, 0.45, 0.9].map((q, i) => JSON.stringify({ id: `d${i}`, text: 'some words', quality: q, quality_band: q < 0.25 ? 'low' : q < 0.5 ? 'mid' : 'high', category_score: 0.5, num_tokens: 3, scores: { edu: i } }));
  await writeFile(join(dir, 'kept', 'part-00000.jsonl'), docs.join('\n') + '\n');
  const r = await collectRunReport(dir);
  assert.ok(r.quality_scores.available);
  assert.deepEqual(r.quality_scores.fields.map((f) => f.field), ['category_score', 'quality', 'scores.edu']);
  const q = r.quality_scores.fields.find((f) => f.field === 'quality')!;
  assert.equal(q.count, 3);
  assert.ok(Math.abs(q.mean - (0.1 + 0.45 + 0.9) / 3) < 1e-12);
  assert.ok(isScoreField('quality') && isScoreField('fasttext_score') && !isScoreField('num_tokens') && !isScoreField('quality_band'));
});

test('a full run folder: tokens per rule, dedup histogram, planned vs achieved shares, epochs and binding constraints', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-data-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeSyntheticRun(join(dir, 'run'));
  const r = await collectRunReport(join(dir, 'run'));
  assert.ok(r.funnel.available && r.dedup.available && r.languages.available && r.quality_scores.available);
  assert.ok(r.funnel.rules.every((x) => x.tokens !== undefined && x.tokens > 0));
  assert.deepEqual(r.dedup.stages[0]!.histogram.map((h) => h.size), ['2', '3', '4', '11-100']);
  assert.equal(r.quality_scores.fields[0]!.field, 'quality_score');
  assert.equal(r.quality_scores.fields[0]!.bins.reduce((a, b) => a + b.docs, 0), r.quality_scores.fields[0]!.count);
  assert.ok(r.shares.available && r.epochs.available && r.binding_constraints.available);
  const code = r.shares.rows.find((x) => x.name === 'code')!;
  assert.ok(code.achieved !== undefined && Math.abs(code.achieved - code.planned) < 0.02);
  // A feasible share is planned exactly (not at the edge of its tolerance), so what binds is the budget.
  assert.ok(Math.abs(code.planned - 0.17) < 1e-9);
  assert.ok(!r.binding_constraints.rows.some((x) => x.key === 'shares.code'));
  assert.ok(r.binding_constraints.rows.some((x) => x.key === 'total_tokens'));
  assert.ok(r.epochs.rows.every((x) => x.achieved_epochs !== undefined));
});

test('the same run folder gives byte-identical report files', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-data-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeSyntheticRun(join(dir, 'run'));
  await writeRunReport(join(dir, 'run'), join(dir, 'a'));
  await writeRunReport(join(dir, 'run'), join(dir, 'b'));
  for (const f of ['report.json', 'report.md', 'report.html']) {
    assert.equal(await readFile(join(dir, 'a', f), 'utf8'), await readFile(join(dir, 'b', f), 'utf8'), f);
  }
});

test('a run folder without tallies/report.json is read back whole, through the counters the tasks use', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-data-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'stats.json'), JSON.stringify({ totals: { in: 6, kept: 3, rejected: 3, errored: 0 }, stages: [{ name: 'gopher', kind: 'filter', in: 6, kept: 3, rejected: 3, errored: 0, reasons: { short_doc: 3 } }] }));
  for (const [folder, extra] of [['kept', {}], ['rejected', { reject_reason: 'gopher:short_doc' }]] as const) {
    await mkdir(join(dir, folder));
    const lines = [0, 1, 2].map((i) => JSON.stringify({ id: `${folder}${i}`, text: 'four bytes each', meta: { language: 'en', num_tokens: 10 ** i, ...extra } }));
    await writeFile(join(dir, folder, 'shard-00000.jsonl'), lines.join('\n') + '\n');
  }
  const r = await collectRunReport(dir);
  assert.ok(r.languages.available && r.funnel.available);
  assert.deepEqual(r.languages.rows.map((x) => [x.name, x.docs, x.tokens]), [['en', 3, 111]]);
  assert.match(r.languages.basis, /^all 3 documents in kept\/, read back from the run folder/);
  assert.deepEqual(r.funnel.rules.map((x) => [x.rule, x.docs, x.tokens]), [['short_doc', 3, 111]]);
  assert.match(r.funnel.rule_tokens_note!, /^from all 3 documents in rejected\//);
  assert.equal(r.documents_basis, 'all 6 documents in kept/, rejected/, read back from the run folder');
  assert.deepEqual(r.examples['gopher:short_doc']!.map((e) => e.id).sort(), ['rejected0', 'rejected1', 'rejected2']);
});
