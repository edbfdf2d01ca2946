/**
 * The `quality-ensemble` stage (Nemotron-CC's ensemble): each model's score → its percentile bin
 * on the whole corpus (every shard), the maximum bin → the band the mix buckets read, and the
 * models' agreement in stats/quality-ensemble.json. Run through the runner over several shards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Doc } from '../pipeline/doc.ts';
import { qualityEnsembleStage } from '../classifiers/quality-ensemble.ts';
import { percentileCuts, binOf } from '../classifiers/ensemble/percentile-bins.ts';
import { spearman } from '../classifiers/ensemble/agreement.ts';
import { runGlobalStage } from './run-global-stage.ts';
import { writeRunReport } from '../mixes/report/index.ts';

/** The bin by its definition: the share of the corpus strictly below, times the bins, floored. */
function expectedBin(value: number, all: number[], bins: number): number {
  const below = all.filter((v) => v < value).length;
  return Math.min(bins - 1, Math.floor((bins * below) / all.length));
}

test('percentile bins: equal scores share a bin; a bin\'s cut is the lowest value whose share below reaches it; values outside the corpus still get a bin', () => {
  const values = [0.1, 0.2, 0.2, 0.2, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95];
  const h = new Map<number, number>();
  for (const v of values) h.set(v, (h.get(v) ?? 0) + 1);
  for (const bins of [2, 4, 5, 10, 20]) {
    const cuts = percentileCuts(h, bins);
    assert.equal(cuts.length, bins - 1);
    for (const v of values) assert.equal(binOf(v, cuts), expectedBin(v, values, bins), `bins ${bins}, value ${v}`);
  }
  // 0.2 has 1 of 10 below (bin 0), 0.5 has 4 (bin 2): bin 1 is empty, its cut the same as bin 2's.
  assert.deepEqual(percentileCuts(h, 5), [0.5, 0.5, 0.7, 0.9]);
  assert.equal(binOf(0, percentileCuts(h, 5)), 0);
  assert.equal(binOf(2, percentileCuts(h, 5)), 4);
  assert.equal(spearman([1, 2, 3, 4], [10, 20, 30, 40]), 1);
  assert.equal(spearman([1, 2, 3, 4], [4, 3, 2, 1]), -1);
});

test('quality-ensemble: each model binned on the whole corpus, the maximum bin and its band in meta, unscored documents left without; agreement in stats/', async () => {
  // Three models: `fast` a probability, `edu` a 0–5 score ranking documents as `fast` does,
  // `contrary` ranking them the other way round; some documents lack one score or all.
  const shards: Doc[][] = [0, 1, 2].map((s) =>
    Array.from({ length: 40 }, (_, i) => {
      const n = s * 40 + i;
      const p = ((n * 37) % 120) / 120;
      const meta: Record<string, unknown> = {};
      if (n % 17 !== 5) meta.fast = Math.round(p * 1e6) / 1e6;
      if (n % 13 !== 3) meta.edu = Math.round(5 * p * p * 1e4) / 1e4;
      if (n % 11 !== 0) meta.contrary = Math.round((1 - p) * 1e6) / 1e6;
      if (n === 7) delete meta.fast, delete meta.edu, delete meta.contrary;
      return { id: `d${n}`, text: `document ${n}`, meta };
    }),
  );
  const run = await runGlobalStage(qualityEnsembleStage, { fields: ['fast', 'edu', 'contrary'], bins: 20 }, shards);
  const all = shards.flat();
  const column = (f: string) => all.map((d) => d.meta[f]).filter((v): v is number => typeof v === 'number');
  const written = run.docs.flat();
  assert.ok(run.verdicts.flat().every((v) => v.keep), 'the ensemble never drops');
  written.forEach((doc, i) => {
    const input = all[i]!;
    const bins: Record<string, number> = {};
    for (const f of ['fast', 'edu', 'contrary']) if (typeof input.meta[f] === 'number') bins[f] = expectedBin(input.meta[f] as number, column(f), 20);
    if (Object.keys(bins).length === 0) {
      assert.equal(doc.meta.quality_ensemble, undefined);
      assert.equal(doc.meta.quality_band, undefined);
      return;
    }
    const best = Math.max(...Object.values(bins));
    assert.deepEqual(doc.meta.quality_ensemble_bins, bins, doc.id);
    assert.equal(doc.meta.quality_ensemble, best);
    assert.equal(doc.meta.quality_band, ['low', 'medium_low', 'medium', 'medium_high', 'high'][[4, 8, 12, 16].filter((c) => best >= c).length]);
  });
  const bands = new Set(written.map((d) => d.meta.quality_band));
  assert.ok(bands.has('high') && bands.has('medium'), [...bands].join());

  const stats = JSON.parse(await readFile(join(run.output, 'stats', 'quality-ensemble.json'), 'utf8')) as {
    docs: number;
    scored: Record<string, number>;
    agreement: { sample_docs: number; pairs: { models: string[]; spearman: number; same_bin: number; within_one_bin: number; docs: number }[]; models: { model: string; scored: number; sets_max_alone: number }[] };
  };
  assert.equal(stats.docs, 120);
  assert.deepEqual(stats.scored, { contrary: column('contrary').length, edu: column('edu').length, fast: column('fast').length });
  const pair = (a: string, b: string) => stats.agreement.pairs.find((p) => p.models[0] === a && p.models[1] === b)!;
  assert.equal(pair('fast', 'edu').spearman, 1);
  assert.ok(pair('fast', 'edu').within_one_bin >= 0.9, JSON.stringify(pair('fast', 'edu')));
  assert.equal(pair('fast', 'contrary').spearman, -1);
  assert.ok(pair('fast', 'contrary').same_bin < 0.2);
  const contrary = stats.agreement.models.find((m) => m.model === 'contrary')!;
  assert.ok(contrary.sets_max_alone > 30, 'the model that ranks the other way sets the maximum of the documents the others rank low');

  // The researcher report shows the agreement as stats/quality-ensemble.json has it.
  await writeRunReport(run.output, join(run.output, 'report'));
  const report = JSON.parse(await readFile(join(run.output, 'report', 'report.json'), 'utf8')) as { ensemble_agreement: { available: boolean; pairs: unknown[]; models: unknown[] } };
  assert.equal(report.ensemble_agreement.available, true);
  assert.deepEqual(report.ensemble_agreement.pairs, stats.agreement.pairs);
  assert.deepEqual(report.ensemble_agreement.models, stats.agreement.models);
  const md = await readFile(join(run.output, 'report', 'report.md'), 'utf8');
  assert.match(md, /Quality classifiers' agreement[\s\S]*fast \/ contrary[^\n]*-1\.000/);
});

test('quality-ensemble: band names must be one more than the cuts, named by config key', async () => {
  await assert.rejects(
    runGlobalStage(qualityEnsembleStage, { fields: ['a', 'b'], band_cuts: [10], band_names: ['low', 'mid', 'high'] }, [[{ id: 'x', text: 'x', meta: { a: 1 } }]]),
    /options\.band_names: 1 cut points need 2 band names, got 3/,
  );
});
