import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../bin/cli.ts';
import type { Census } from '../mixes/census.ts';
import type { MixPlan } from '../mixes/planner.ts';
import { captureStderr } from './capture-stderr.ts';

async function workDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'mix-cli-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

function docsJsonl(): string {
  const lines: string[] = [];
  for (let i = 0; i < 40; i++) lines.push(JSON.stringify({ id: `w${i}`, text: 'x'.repeat(400), source: 'web', category: 'general', language: 'en', quality_band: i % 2 ? 'high' : 'low', num_tokens: 100 }));
  for (let i = 0; i < 10; i++) lines.push(JSON.stringify({ id: `c${i}`, text: 'y'.repeat(400), source: 'github', category: 'code', language: 'en' }));
  for (let i = 0; i < 5; i++) lines.push(JSON.stringify({ id: `f${i}`, text: 'z'.repeat(400), source: 'web', category: 'general', language: 'fr', num_tokens: 100 }));
  return lines.join('\n') + '\n';
}

test('mix census counts documents (num_tokens, else UTF-8 bytes / 4) and mix plan writes a plan', async (t) => {
  const dir = await workDir(t);
  await writeFile(join(dir, 'docs.jsonl'), docsJsonl());
  assert.equal(await main(['node', 'refinery', 'mix', 'census', join(dir, 'docs.jsonl'), '-o', join(dir, 'census.json')]), 0);
  const census = JSON.parse(await readFile(join(dir, 'census.json'), 'utf8')) as Census;
  assert.equal(census.totals.docs, 55);
  assert.equal(census.estimated_docs, 10);
  assert.equal(census.totals.by_category.code, 10 * 100);
  assert.equal(census.buckets.find((b) => b.source === 'github')!.quality_band, 'unknown');

  await writeFile(join(dir, 'mix.yaml'), 'total_tokens: 6000\nshares:\n  code: 0.25\n  non_english: 0.1\ntolerance: 0\nmax_epochs: 4\n');
  assert.equal(await main(['node', 'refinery', 'mix', 'plan', join(dir, 'census.json'), '-c', join(dir, 'mix.yaml'), '-o', join(dir, 'plan.json')]), 0);
  const plan = JSON.parse(await readFile(join(dir, 'plan.json'), 'utf8')) as MixPlan;
  assert.equal(plan.status, 'optimal');
  assert.ok(Math.abs(plan.shares.category.code!.planned - 0.25) < 1e-9);
  assert.ok(Math.abs(plan.buckets.find((b) => b.source === 'github')!.rate - 1.5) < 1e-9);
});

test('mix plan exits non-zero when a target cannot be met, and writes the closest plan beside the output', async (t) => {
  const dir = await workDir(t);
  await writeFile(join(dir, 'docs.jsonl'), docsJsonl());
  await main(['node', 'refinery', 'mix', 'census', join(dir, 'docs.jsonl'), '-o', join(dir, 'census.json')]);
  await writeFile(join(dir, 'mix.yaml'), 'total_tokens: 6000\nshares:\n  non_english: 0.5\nmax_epochs: 2\n');
  assert.equal(await main(['node', 'refinery', 'mix', 'plan', join(dir, 'census.json'), '-c', join(dir, 'mix.yaml'), '-o', join(dir, 'plan.json')]), 1);
  await assert.rejects(access(join(dir, 'plan.json')));
  const closest = JSON.parse(await readFile(join(dir, 'plan.closest.json'), 'utf8')) as MixPlan;
  assert.equal(closest.status, 'relaxed');
  const v = closest.constraints.find((c) => c.key === 'shares.non_english' && c.shortfall_tokens > 0)!;
  // 500 French tokens × 2 epochs = 1000 available; 49.5% of 6000 = 2970 needed.
  assert.equal(v.shortfall_tokens, 1970);
});

test('mix fit reads runs.csv and writes the fit', async (t) => {
  const dir = await workDir(t);
  const rows = ['w_a,w_b,w_c,loss_val'];
  for (let i = 0; i < 12; i++) {
    const a = ((i * 37) % 11) / 20 + 0.05;
    const b = ((i * 17) % 7) / 20 + 0.05;
    const c = 1 - a - b;
    rows.push(`${a},${b},${c},${(3 - 0.5 * a + 0.2 * b).toFixed(6)}`);
  }
  await writeFile(join(dir, 'runs.csv'), rows.join('\n') + '\n');
  assert.equal(await main(['node', 'refinery', 'mix', 'fit', join(dir, 'runs.csv'), '--model', 'linear', '--candidates', '500', '--search', 'simplex', '-o', join(dir, 'fit.json')]), 0);
  const fit = JSON.parse(await readFile(join(dir, 'fit.json'), 'utf8')) as { proposal: { weights: Record<string, number> }; evidence: { within: boolean } };
  assert.ok(fit.proposal.weights.a! > 0.999, 'searching the whole simplex, a linear loss that falls with a puts all weight on a');
  assert.equal(fit.evidence.within, false, 'no run has more than 55% of a');
});

test('mix census reads a run folder through its tokens/manifest.json, and refuses a stats.json', async (t) => {
  const dir = await workDir(t);
  const bucket = { source: 'web', category: 'general', language: 'en', quality_band: 'high', docs: 3, tokens: 900 };
  await mkdir(join(dir, 'run', 'tokens'), { recursive: true });
  await writeFile(join(dir, 'run', 'tokens', 'manifest.json'), JSON.stringify({ version: 1, buckets: [bucket, { ...bucket, language: 'de', category: undefined }] }));
  assert.equal(await main(['node', 'refinery', 'mix', 'census', join(dir, 'run'), '-o', join(dir, 'census.json')]), 0);
  const census = JSON.parse(await readFile(join(dir, 'census.json'), 'utf8')) as Census;
  assert.deepEqual(census.totals.by_category, { general: 900, unknown: 900 });
  await writeFile(join(dir, 'stats.json'), JSON.stringify({ totals: { in: 1, kept: 1, rejected: 0, errored: 0 }, stages: [] }, null, 2));
  assert.equal(await main(['node', 'refinery', 'mix', 'census', join(dir, 'stats.json'), '-o', join(dir, 'c2.json')]), 1);
});

test('mix plan names a missing census file (exit 1, not an unexpected error)', async (t) => {
  const dir = await workDir(t);
  await writeFile(join(dir, 'mix.yaml'), 'total_tokens: 6000\n');
  const stderr = captureStderr(t);
  const missing = join(dir, 'missing.json');
  assert.equal(await main(['node', 'refinery', 'mix', 'plan', missing, '-c', join(dir, 'mix.yaml'), '-o', join(dir, 'plan.json')]), 1);
  assert.ok(stderr.text().includes(`${missing}: no such file`), stderr.text());
  assert.ok(!stderr.text().includes('unexpected error'));
});
