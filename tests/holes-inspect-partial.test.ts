/**
 * `refinery inspect` on a run that is unfinished or damaged shows what it can read and says what
 * it could not: a truncated shard, a shard that is missing, a run without stats.json. Never an
 * "unexpected error".
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { tempDir } from './temp-dirs.ts';

const BIN = resolve('bin/refinery.mjs');

function refinery(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
}

/** A finished run of two input shards, 40 documents each, all kept. */
async function finishedRun(): Promise<string> {
  const dir = await tempDir('refinery-holes-inspect-');
  await mkdir(join(dir, 'data'));
  for (const part of ['a', 'b']) {
    const lines = Array.from({ length: 40 }, (_, i) => JSON.stringify({ id: `${part}${i}`, text: `document ${part} ${i} ${'words '.repeat(200)}` }));
    await writeFile(join(dir, 'data', `${part}.jsonl.gz`), gzipSync(lines.join('\n') + '\n'));
  }
  await writeFile(join(dir, 'p.yaml'), 'inputs: ["data/*.jsonl.gz"]\noutput: out\nworkers: 1\nstages: []\n');
  const r = refinery(['run', join(dir, 'p.yaml'), '-q', '--no-report']);
  assert.equal(r.status, 0, r.stderr);
  return join(dir, 'out');
}

const run = finishedRun();

async function copyOf(name: string): Promise<string> {
  const to = join(await tempDir('refinery-holes-inspect-copy-'), name);
  await cp(await run, to, { recursive: true });
  return to;
}

test('a finished, whole run: no warning', async () => {
  const r = refinery(['inspect', await run, '-n', '2']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '');
  assert.match(r.stdout, /^80 documents match; showing 2/);
});

test('a truncated shard: the documents before the cut are shown, and a warning names the file', async () => {
  const out = await copyOf('truncated');
  const shard = join(out, 'kept', 'shard-00001.jsonl.gz');
  const bytes = await readFile(shard);
  await writeFile(shard, bytes.subarray(0, Math.floor(bytes.length / 2)));
  const r = refinery(['inspect', out, '-n', '2']);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /unexpected error/);
  assert.match(r.stderr, new RegExp(`^refinery: warning: ${shard.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot be read on \\(truncated or damaged\\?\\): unexpected end of file; its first \\d+ records are included, the rest are not\\n$`));
  const matched = Number(/^(\d+) documents match/.exec(r.stdout)?.[1]);
  assert.ok(matched >= 40 && matched < 80, r.stdout);
});

test('a shard that is not there: a warning names it, the other shards are shown', async () => {
  const out = await copyOf('missing');
  const shard = join(out, 'kept', 'shard-00000.jsonl.gz');
  await rm(shard);
  await symlink(join(out, 'gone.jsonl.gz'), shard);
  const r = refinery(['inspect', out, '-n', '1']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /kept\/shard-00000\.jsonl\.gz: listed in its folder, but the file is not there; none of its records are included/);
  assert.match(r.stdout, /^40 documents match/);
});

test('an unfinished run (no stats.json): a warning says so, and what its finished tasks wrote is shown', async () => {
  const out = await copyOf('unfinished');
  await rm(join(out, 'stats.json'));
  const r = refinery(['inspect', out, '-n', '1', '--json']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^refinery: warning: .*unfinished is an unfinished run \(no stats\.json\): only the documents of its finished tasks are here; run it again to finish it\n$/);
  assert.equal(r.stdout.trim().split('\n').length, 1);
});

test('an unfinished run that has written no documents yet is refused saying so', async () => {
  const out = await copyOf('started');
  for (const folder of ['kept', 'rejected', 'errors', 'stats.json']) await rm(join(out, folder), { recursive: true, force: true });
  const r = refinery(['inspect', out]);
  assert.equal(r.status, 1, r.stderr);
  assert.equal(r.stderr, `refinery: ${out}: an unfinished run that has written no documents yet (run.json, but no kept/, rejected/ or errors/): nothing to inspect; run it again to finish it\n`);
});
