import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Command } from 'commander';
import { registerFilterCommand } from '../filters/command.ts';
import { readJsonlDir as readOutput } from './output-files.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';

registerBuiltinStages();

const BIN = resolve('bin/refinery.mjs');
const FIXTURES = resolve('tests/fixtures/filters');

test('refinery filter runs the default set: real prose kept, bad pages rejected with a reason, counts add up', async () => {
  const out = join(await mkdtemp(join(tmpdir(), 'refinery-filter-')), 'out');
  const r = spawnSync(process.execPath, [BIN, 'filter', join(FIXTURES, 'good-prose.jsonl'), join(FIXTURES, 'bad-pages.jsonl'), '-o', out, '--workers', '1', '--quiet'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const stats = JSON.parse(await readFile(join(out, 'stats.json'), 'utf8')) as { totals: { in: number; kept: number; rejected: number; errored: number }; stages: { name: string }[] };
  assert.deepEqual(stats.totals, { ...stats.totals, in: 6, kept: 3, rejected: 3, errored: 0 });
  assert.deepEqual(stats.stages.map((s) => s.name), ['langid', 'url-blocklist', 'gopher-repetition', 'gopher-quality', 'c4', 'fineweb', 'dirty-words', 'code-quality', 'token-outlier']);
  const kept = await readOutput(join(out, 'kept'));
  assert.deepEqual(kept.map((d) => d.id).sort(), ['article-factbook-norway', 'book-kjv-ruth', 'speech-1941-roosevelt']);
  const rejected = await readOutput(join(out, 'rejected'));
  for (const d of rejected) assert.match(String((d.meta as Record<string, unknown> | undefined)?.reject_reason ?? d.reject_reason), /^[a-z0-9-]+:[a-z0-9_]+$/);
});

test('refinery filter --stages runs only the named stages, in order, and rejects unknown names', async () => {
  const out = join(await mkdtemp(join(tmpdir(), 'refinery-filter-')), 'out');
  const program = () => {
    const p = new Command('refinery').exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    registerFilterCommand(p);
    return p;
  };
  await program().parseAsync(['filter', join(FIXTURES, 'bad-pages.jsonl'), '-o', out, '--stages', 'gopher-repetition,fineweb', '--workers', '1', '--quiet'], { from: 'user' });
  const stats = JSON.parse(await readFile(join(out, 'stats.json'), 'utf8')) as { stages: { name: string; reasons: Record<string, number> }[] };
  assert.deepEqual(stats.stages.map((s) => s.name), ['gopher-repetition', 'fineweb']);
  assert.equal(stats.stages[0]!.reasons['top_2_gram'], 1);
  await assert.rejects(
    program().parseAsync(['filter', join(FIXTURES, 'bad-pages.jsonl'), '-o', out, '--stages', 'gopher,nope'], { from: 'user' }),
    /unknown filter stage gopher, nope/,
  );
});
