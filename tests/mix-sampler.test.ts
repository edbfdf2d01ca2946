import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CensusBuilder } from '../mixes/census.ts';
import { planMix } from '../mixes/planner.ts';
import { parseMixConfig } from '../mixes/mix-config.ts';
import { copiesFor, cutPlan, loadPlanSampler } from '../mixes/sampler.ts';
import { unitHash } from '../pipeline/hash.ts';
import { bucketId, bucketKeyOfDoc } from '../mixes/bucket.ts';
import { generateDocs, WEB_LIKE } from './fixtures/mixes/synthetic-census.ts';

test('the seeded hash is uniform enough: 20 bins of 100k ids stay within 3% of their expected count', () => {
  const bins = new Array<number>(20).fill(0);
  for (let i = 0; i < 100_000; i++) bins[Math.floor(unitHash(7, `doc-${i}`) * 20)]!++;
  for (const n of bins) assert.ok(Math.abs(n - 5000) < 150, `bins ${bins.join(',')}`);
});

test('copies are floor(rate) plus one with probability frac(rate), and depend only on seed and id', () => {
  assert.equal(copiesFor(3, 1, 's', 'a'), 3);
  assert.equal(copiesFor(0, 1, 's', 'a'), 0);
  for (const id of ['a', 'b', 'c', 'd']) {
    const c = copiesFor(2.5, 42, 'web', id);
    assert.ok(c === 2 || c === 3);
    assert.equal(copiesFor(2.5, 42, 'web', id), c);
  }
  let sum = 0;
  for (let i = 0; i < 50_000; i++) sum += copiesFor(0.3, 9, 'web', String(i));
  assert.ok(Math.abs(sum / 50_000 - 0.3) < 0.01);
  let differs = 0;
  for (let i = 0; i < 1000; i++) differs += copiesFor(0.5, 1, 'web', String(i)) !== copiesFor(0.5, 2, 'web', String(i)) ? 1 : 0;
  assert.ok(differs > 300, 'another seed gives another sample');
});

test('a sampled corpus of 200k documents meets the plan within ±0.5 percentage points per category', async (t) => {
  const docs = generateDocs(WEB_LIKE, 200_000, 1);
  const builder = new CensusBuilder();
  for (const d of docs) builder.addDoc(d);
  const census = builder.build();
  const config = parseMixConfig({ total_tokens: Math.round(census.totals.tokens * 1.2), shares: { code: 0.17, math: 0.05 }, quality_weights: { high: 2 } });
  const plan = await planMix(census, config);
  const dir = await mkdtemp(join(tmpdir(), 'mix-sampler-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const planPath = join(dir, 'plan.json');
  await writeFile(planPath, JSON.stringify(plan));

  const sample = await loadPlanSampler(planPath, 1234);
  const byCategory = new Map<string, number>();
  let nonEnglish = 0;
  let total = 0;
  // Reverse order: the decision for a document must not depend on what came before it.
  for (const d of [...docs].reverse()) {
    const tokens = (d.meta.num_tokens as number) * sample(d);
    const key = bucketKeyOfDoc(d);
    byCategory.set(key.category, (byCategory.get(key.category) ?? 0) + tokens);
    if (key.language !== 'en') nonEnglish += tokens;
    total += tokens;
  }
  for (const [category, line] of Object.entries(plan.shares.category)) {
    const achieved = (byCategory.get(category) ?? 0) / total;
    assert.ok(Math.abs(achieved - line.planned) <= 0.005, `${category}: planned ${line.planned}, achieved ${achieved}`);
  }
  assert.ok(Math.abs(nonEnglish / total - plan.shares.non_english.planned) <= 0.005);
  assert.ok(Math.abs(total / plan.planned_tokens - 1) < 0.01, `total ${total} vs planned ${plan.planned_tokens}`);
});

test('with hash cuts every bucket gets its planned tokens within one document, whatever the run seed and document order', async (t) => {
  const docs = generateDocs(WEB_LIKE, 100_000, 2);
  const builder = new CensusBuilder();
  for (const d of docs) builder.addDoc(d);
  const census = builder.build();
  const config = parseMixConfig({ total_tokens: Math.round(census.totals.tokens * 1.3), shares: { code: 0.17, non_english: 0.05 }, quality_weights: { high: 2 } });
  const plan = await cutPlan(await planMix(census, config), docs, 5);
  assert.deepEqual(await cutPlan(await planMix(census, config), [...docs].reverse(), 5), plan, 'the cuts do not depend on document order');
  const dir = await mkdtemp(join(tmpdir(), 'mix-sampler-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const planPath = join(dir, 'plan.json');
  await writeFile(planPath, JSON.stringify(plan));

  const achievedBy = async (path: string, runSeed: number) => {
    const sample = await loadPlanSampler(path, runSeed);
    const out = new Map<string, number>();
    for (const d of [...docs].reverse()) {
      const id = bucketId(bucketKeyOfDoc(d));
      out.set(id, (out.get(id) ?? 0) + (d.meta.num_tokens as number) * sample(d));
    }
    return out;
  };
  const largest = new Map<string, number>();
  for (const d of docs) {
    const id = bucketId(bucketKeyOfDoc(d));
    largest.set(id, Math.max(largest.get(id) ?? 0, d.meta.num_tokens as number));
  }
  const achieved = await achievedBy(planPath, 77);
  assert.deepEqual(await achievedBy(planPath, 78), achieved, 'a plan with cuts samples with its own seed');
  let total = 0;
  for (const b of plan.buckets) {
    const got = achieved.get(b.id) ?? 0;
    total += got;
    assert.ok(Math.abs(got - b.tokens) <= largest.get(b.id)!, `${b.id}: planned ${b.tokens}, achieved ${got}, largest document ${largest.get(b.id)}`);
  }
  const code = plan.buckets.filter((b) => b.category === 'code').reduce((a, b) => a + (achieved.get(b.id) ?? 0), 0);
  assert.ok(Math.abs(code / total - 0.17) < 0.001, `code share ${code / total}`);

  // The same plan drawn document by document misses some bucket by more than a document.
  const { sampling: _s, ...uncut } = plan;
  const perDocPath = join(dir, 'plan-per-doc.json');
  await writeFile(perDocPath, JSON.stringify({ ...uncut, buckets: plan.buckets.map(({ cut: _c, ...b }) => b) }));
  const drawn = await achievedBy(perDocPath, 77);
  assert.ok(plan.buckets.some((b) => Math.abs((drawn.get(b.id) ?? 0) - b.tokens) > largest.get(b.id)!), 'per-document draws are exact only by chance');
});

test('a document from a bucket the plan does not cover is an error, not a silent drop', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'mix-sampler-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const planPath = join(dir, 'plan.json');
  await writeFile(planPath, JSON.stringify({ buckets: [{ id: 'web/general/en/high', rate: 1.5 }] }));
  const sample = await loadPlanSampler(planPath, 1);
  assert.throws(() => sample({ id: 'x', text: '', meta: { source: 'other' } }), /other\/unknown\/unknown\/unknown/);
  const n = sample({ id: 'x', text: '', meta: { source: 'web', category: 'general', language: 'en', quality_band: 'high' } });
  assert.ok(n === 1 || n === 2);
});
