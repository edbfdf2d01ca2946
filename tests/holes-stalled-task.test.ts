/**
 * A task that stops making progress is visible: after REFINERY_STALL_SECONDS without a new batch
 * read, a warning names the task and its input; the run goes on when the task does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { tempDir } from './temp-dirs.ts';

const BIN = resolve('bin/refinery.mjs');
const PLUGIN = resolve('tests/fixtures/core/test-stages.ts');

test('a process task held by a stage is named in a warning, and the run finishes when it is let go', async () => {
  const dir = await tempDir('refinery-holes-stall-');
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'a.jsonl'), Array.from({ length: 20 }, (_, i) => JSON.stringify({ id: `d${i}`, text: `document ${i}` })).join('\n') + '\n');
  const hold = join(dir, 'hold');
  await writeFile(hold, '');
  await writeFile(join(dir, 'p.yaml'), `inputs: ["data/*.jsonl"]\noutput: out\nworkers: 2\nplugins: ["${PLUGIN}"]\nstages:\n  - stage: slow\n    options: { ms: 1, hold_while: "${hold}" }\n`);
  const child = spawn(process.execPath, [BIN, 'run', join(dir, 'p.yaml'), '-q', '--no-report'], { env: { ...process.env, REFINERY_STALL_SECONDS: '1' } });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const deadline = Date.now() + 60_000;
  while (!/has read no new documents/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await rm(hold);
  assert.equal(await exited, 0, stderr);
  assert.match(stderr, /^refinery: warning: task process-0-00000 \(.*data\/a\.jsonl\) has read no new documents for \d+ s \(0 read\): a stage may be stuck on a document, or the task is still writing its outputs \(REFINERY_STALL_SECONDS sets this wait\)$/m);
});
