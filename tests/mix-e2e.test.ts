import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStages } from '../pipeline/engine/run.ts';
import { buildCensus } from '../mixes/census.ts';
import { planMix } from '../mixes/planner.ts';
import { parseMixConfig } from '../mixes/mix-config.ts';
import { collectRunReport } from '../mixes/report/data.ts';
import { stableJson } from '../pipeline/io/atomic.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';

registerBuiltinStages();

test('census → plan → tokenize with the plan → report: the tokenized output meets the plan', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mix-e2e-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const words = 'the quick brown fox jumps over the lazy dog and then some more words follow here'.split(' ');
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const kind = i % 10;
    const source = kind < 6 ? 'web' : kind < 8 ? 'github' : kind < 9 ? 'arxiv' : 'webfr';
    const text = Array.from({ length: 20 + ((i * 7919) % 200) }, (_, j) => words[(i + j * 3) % words.length]).join(' ');
    lines.push(JSON.stringify({ id: `d${i}`, text, source, language: source === 'webfr' ? 'fr' : 'en', quality_score: ((i * 37) % 100) / 100 }));
  }
  await writeFile(join(dir, 'in.jsonl'), lines.join('\n') + '\n');
  const buckets = {
    stage: 'mix-buckets',
    options: {
      category_rules: [{ source: ['github'], category: 'code' }, { source: ['arxiv'], category: 'math' }],
      quality_bands: { field: 'quality_score', bands: [{ band: 'high', min: 0.8 }, { band: 'medium', min: 0.3 }] },
    },
  };
  await runStages({ inputs: [join(dir, 'in.jsonl')], output: join(dir, 'natural'), stages: [buckets, { stage: 'tokenize' }], quiet: true, workers: 1 });
  const { census } = await buildCensus([join(dir, 'natural')]);
  assert.equal(census.estimated_docs, 0, 'the manifest has exact token counts');
  const plan = await planMix(census, parseMixConfig({ total_tokens: Math.round(census.totals.tokens * 1.3), shares: { code: 0.3, math: 0.2 }, quality_weights: { high: 2 } }));
  await writeFile(join(dir, 'plan.json'), stableJson(plan));

  await runStages({ inputs: [join(dir, 'in.jsonl')], output: join(dir, 'mixed'), stages: [buckets, { stage: 'tokenize', options: { plan: join(dir, 'plan.json') } }], quiet: true, workers: 1, seed: 3 });
  const report = await collectRunReport(join(dir, 'mixed'));
  assert.ok(report.shares.available, 'the report finds the plan through the manifest');
  for (const row of report.shares.rows) {
    assert.ok(row.achieved !== undefined && Math.abs(row.achieved - row.planned) < 0.01, `${row.name}: planned ${row.planned}, achieved ${row.achieved}`);
  }
  assert.ok(report.epochs.available && report.epochs.rows.some((r) => (r.achieved_epochs ?? 0) > 1.5), 'code and math are repeated');
});
