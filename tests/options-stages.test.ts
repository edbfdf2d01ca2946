/**
 * `refinery stages NAME` prints a stage's options from its schema: type, default and description,
 * and every built-in stage describes every option it has.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { loadAllStages } from '../pipeline/registry.ts';
import { optionFields } from '../pipeline/cli/option-flags.ts';

const root = join(import.meta.dirname, '..');

/** Runs `refinery` with `args` in a child process (the test runner reports through this process's stdout). */
function refinery(args: string[]): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'refinery.mjs'), ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

test('refinery stages minhash-dedup prints each option with its type, default and description', () => {
  const { code, out } = refinery(['stages', 'minhash-dedup']);
  assert.equal(code, 0);
  const lines = out.split('\n');
  assert.match(lines[0]!, /^minhash-dedup \(global\): .*MinHash/);
  const entry = (key: string) => {
    const i = lines.findIndex((l) => l.startsWith(`${key} (`));
    assert.ok(i >= 0, `${key} is listed`);
    return [lines[i]!, lines[i + 1]!];
  };
  assert.deepEqual(entry('n_grams'), ['n_grams (integer ≥ 1 ≤ 64, default 5)', '    Word n-grams per shingle (FineWeb: 5).']);
  assert.equal(entry('hashing')[0], 'hashing ("independent" | "one-permutation", default "independent")');
  assert.equal(entry('seed')[0], 'seed (integer, optional)');
  assert.equal(entry('verification.threshold')[0], 'verification.threshold (number ≥ 0 ≤ 1, default 0.7)');
  assert.match(entry('verification.threshold')[1]!, /^ {4}Minimum \(estimated\) Jaccard/);
  assert.equal(entry('partitions')[0], 'partitions (integer ≥ 1 ≤ 65536, default 16)');
});

test('refinery stages quality marks the required option and lists, and select shows the fields of its conditions', () => {
  const quality = refinery(['stages', 'quality']).out;
  assert.match(quality, /^model \(string, required\)$/m);
  assert.match(quality, /^threshold \(number \| "card", optional\)$/m);
  assert.match(quality, /^band_names \(list of string, default \["low","mid","high"\]\)$/m);
  const select = refinery(['stages', 'select']).out;
  assert.match(select, /^where \(list of objects, default \[\]\)$/m);
  assert.match(select, /^would_drop \(list of string, optional\)$/m);
  assert.match(select, /^where\[\]\.missing \("keep" \| "drop", optional\)$/m);
});

test('refinery stages still lists every stage, and an unknown name is an error that lists them', () => {
  const { code, out } = refinery(['stages']);
  assert.equal(code, 0);
  for (const name of ['langid', 'minhash-dedup', 'quality', 'tokenize']) assert.match(out, new RegExp(`^${name} +(filter|annotator|mapper|global) +\\S`, 'm'));
  const unknown = refinery(['stages', 'minhash']);
  assert.equal(unknown.code, 1);
  assert.match(unknown.err, /unknown stage "minhash"; choose from .*minhash-dedup/);
});

test('every option of every built-in stage has a description in its schema', async () => {
  registerBuiltinStages();
  const undescribed: string[] = [];
  for (const stage of await loadAllStages()) {
    for (const f of optionFields(stage.options)) if (!f.description) undescribed.push(`${stage.name}: ${f.key}`);
  }
  assert.deepEqual(undescribed, []);
});
