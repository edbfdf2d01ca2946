import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTokens, planMix, MixInfeasibleError } from '../mixes/planner.ts';
import { parseMixConfig } from '../mixes/mix-config.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { censusOf, WEB_LIKE } from './fixtures/mixes/synthetic-census.ts';

const census = censusOf(WEB_LIKE);

test('a feasible plan draws the whole budget and meets every share within the tolerance', async () => {
  const config = parseMixConfig({ total_tokens: '1T', shares: { code: 0.17, math: 0.05 }, tolerance: 0.005 });
  const plan = await planMix(census, config);
  assert.equal(plan.status, 'optimal');
  assert.equal(plan.planned_tokens, 1e12);
  assert.ok(Math.abs(plan.shares.category.code!.planned - 0.17) <= 0.005 + 1e-9);
  assert.ok(Math.abs(plan.shares.category.math!.planned - 0.05) <= 0.005 + 1e-9);
  assert.ok(plan.shares.non_english.planned >= 0.045 - 1e-9, 'non-English defaults to 5% ± tolerance');
  for (const b of plan.buckets) assert.ok(b.rate <= b.max_epochs + 1e-9, `${b.id} repeats ${b.rate} times`);
  const sum = plan.buckets.reduce((a, b) => a + b.tokens, 0);
  assert.ok(Math.abs(sum - 1e12) < plan.buckets.length);
});

test('a feasible numeric share is met exactly, not at the edge of its tolerance', async () => {
  // Natural shares: code 6.1%, non-English 2.0%; both targets lie far above and are reachable.
  const plan = await planMix(census, parseMixConfig({ total_tokens: '1T', shares: { code: 0.17, non_english: 0.05 }, tolerance: 0.005 }));
  assert.equal(plan.status, 'optimal');
  assert.ok(Math.abs(plan.shares.category.code!.planned - 0.17) < 1e-9, `code planned ${plan.shares.category.code!.planned}`);
  assert.ok(Math.abs(plan.shares.non_english.planned - 0.05) < 1e-9, `non-English planned ${plan.shares.non_english.planned}`);
});

test('the tolerance is given up only where the exact share cannot be met', async () => {
  // 60B code tokens × 3 epochs = 180B = 18% of 1T: a 18.3% target is reachable only within its ±0.5 pp.
  const plan = await planMix(census, parseMixConfig({ total_tokens: '1T', shares: { code: 0.183, math: 0.05 }, tolerance: 0.005, max_epochs: 3 }));
  assert.equal(plan.status, 'optimal');
  assert.ok(Math.abs(plan.shares.category.code!.planned - 0.18) < 1e-9, `code planned ${plan.shares.category.code!.planned}`);
  assert.ok(Math.abs(plan.shares.category.math!.planned - 0.05) < 1e-9, 'the other targets stay exact');
});

test('without binding caps every bucket of a group is drawn at the same rate (natural distribution inside groups)', async () => {
  const plan = await planMix(census, parseMixConfig({ total_tokens: '500B', shares: { code: 0.1 } }));
  const englishGeneral = plan.buckets.filter((b) => b.category === 'general' && b.language === 'en');
  const rates = englishGeneral.map((b) => b.rate);
  for (const r of rates) assert.ok(Math.abs(r - rates[0]!) < 1e-6, `rates ${rates.join(', ')}`);
  assert.equal(plan.objective.within_groups, 0);
});

test('a category that needs more than its data is repeated, up to max_epochs', async () => {
  const plan = await planMix(census, parseMixConfig({ total_tokens: '1T', shares: { code: 0.2 }, max_epochs: 4 }));
  const code = plan.buckets.find((b) => b.category === 'code')!;
  assert.ok(Math.abs(code.rate - (0.2 * 1e12) / 60e9) < 1e-6);
  assert.ok(code.rate > 1);
});

test('quality weights upweight the top band relative to the others in its group', async () => {
  const plan = await planMix(census, parseMixConfig({ total_tokens: '500B', shares: { code: 0.1 }, quality_weights: { high: 2 } }));
  const rate = (band: string) => plan.buckets.find((b) => b.source === 'web' && b.language === 'en' && b.quality_band === band)!.rate;
  assert.ok(Math.abs(rate('high') / rate('medium') - 2) < 1e-6);
  assert.ok(Math.abs(rate('low') / rate('medium') - 1) < 1e-6);
});

test('a source limit binds and is reported as binding', async () => {
  const plan = await planMix(census, parseMixConfig({ total_tokens: '500B', shares: { code: 0.1 }, sources: { wiki: { min_share: 0.05 } } }));
  assert.ok(Math.abs(plan.shares.source.wiki!.planned - 0.05) < 1e-6);
  const c = plan.constraints.find((x) => x.key === 'sources.wiki.min_share')!;
  assert.equal(c.binding, true);
  assert.equal(c.shortfall_tokens, 0);
});

test('not enough non-English tokens even at the epoch cap: a typed error naming the constraint, the shortfall and the closest plan', async () => {
  const config = parseMixConfig({ total_tokens: '1T', shares: { code: 0.17, non_english: 0.1 }, tolerance: 0, max_epochs: 4 });
  await assert.rejects(planMix(census, config), (e: unknown) => {
    assert.ok(e instanceof MixInfeasibleError);
    assert.equal(e.violations.length, 1);
    const v = e.violations[0]!;
    assert.equal(v.key, 'shares.non_english');
    // 20B non-English tokens × 4 epochs = 80B available; 10% of 1T = 100B needed.
    assert.equal(v.shortfall_tokens, 20e9);
    assert.match(e.message, /shares\.non_english.*short by 20B tokens/);
    assert.equal(e.closest.status, 'relaxed');
    assert.equal(e.closest.shares.non_english.planned_tokens, 80e9);
    assert.equal(e.closest.planned_tokens, 1e12);
    return true;
  });
});

test('a budget larger than all data at the epoch cap fails on total_tokens', async () => {
  await assert.rejects(planMix(census, parseMixConfig({ total_tokens: '5T', max_epochs: 1 })), (e: unknown) => {
    assert.ok(e instanceof MixInfeasibleError);
    const v = e.violations.find((x) => x.key === 'total_tokens')!;
    assert.equal(v.shortfall_tokens, 5e12 - 960e9);
    return true;
  });
});

test('config errors name the key', () => {
  assert.throws(() => parseMixConfig({ total_tokens: '15 tokens' }), (e: unknown) => e instanceof ConfigError && e.keyPath === 'total_tokens');
  assert.throws(() => parseMixConfig({ total_tokens: 1e9, shares: { a: 0.7, b: 0.6 } }), (e: unknown) => e instanceof ConfigError && e.keyPath === 'shares');
  assert.throws(() => parseMixConfig({ total_tokens: 1e9, sources: { wiki: { max_epoch: 3 } } }), (e: unknown) => e instanceof ConfigError && e.keyPath === 'sources.wiki.max_epoch');
  assert.equal(parseMixConfig({ total_tokens: '15T' }).total_tokens, 15e12);
});

test('token counts print in three significant digits, rounding up into the next unit', async () => {
  assert.deepEqual([999_999, 123_456, 1_234_567, 1.5e9, 20e9, 15e12, 42].map(formatTokens), ['1M', '123K', '1.23M', '1.5B', '20B', '15T', '42']);
  const plan = await planMix(census, parseMixConfig({ total_tokens: 999_999 }));
  const budget = plan.constraints.find((c) => c.key === 'total_tokens')!;
  assert.equal(budget.message, 'total_tokens: at least 1M tokens; planned 1M');
});
