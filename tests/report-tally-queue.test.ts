/**
 * A queue run (real Redis, two `refinery worker` processes) writes the report's tally with the
 * same bytes as a local run of the same pipeline: the finishing job merges the parts read back
 * from the tasks' markers, in task order, whichever worker ran which task.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPipelineFile } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { deletePrefixes, TEST_REDIS } from './redis-fixture.ts';
import { BIN, runCli } from './cli-processes.ts';

registerBuiltinStages();

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PLUGIN = join(ROOT, 'tests', 'fixtures', 'report', 'cheap-rules.ts');
const LANGUAGES = ['en', 'de', 'fr'];

const cli = (dir: string, args: string[]) => runCli(dir, args);

test('the tally of a queue run on two worker processes is the local run\'s, byte for byte', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-tally-queue-'));
  const prefix = `{report-tally-${process.pid}}`;
  const workers: ChildProcess[] = [];
  t.after(async () => {
    for (const w of workers) if (w.exitCode === null && w.signalCode === null) w.kill('SIGKILL');
    await deletePrefixes([prefix]);
    await rm(dir, { recursive: true, force: true });
  });
  for (let s = 0; s < 3; s++) {
    const lines = Array.from({ length: 300 }, (_, k) => {
      const i = s * 300 + k;
      return JSON.stringify({ id: `d${i}`, text: `${'ab'.repeat(i % 7)}${i % 13}`, source: `s${i % 2}`, language: LANGUAGES[i % 3] });
    });
    await writeFile(join(dir, `part-${s}.jsonl`), lines.join('\n') + '\n');
  }
  const pipeline = (name: string) => [`inputs: part-*.jsonl`, `output: out-${name}`, `plugins: [${JSON.stringify(PLUGIN)}]`, 'workers: 1', 'seed: 5', 'stages:', '  - stage: cheap-rules', '    options: { min_chars: 2 }', '  - exact-dedup', ''].join('\n');
  await writeFile(join(dir, 'local.yaml'), pipeline('local'));
  await writeFile(join(dir, 'queue.yaml'), pipeline('queue'));
  await runPipeline(await loadPipelineFile(join(dir, 'local.yaml')), { quiet: true });

  const target = ['--redis', TEST_REDIS, '--queue', 'runs', '--prefix', prefix];
  for (let i = 0; i < 2; i++) workers.push(spawn(process.execPath, [BIN, 'worker', ...target, '-c', '1'], { cwd: dir, stdio: 'ignore' }));
  const sub = await cli(dir, ['submit', 'queue.yaml', ...target]);
  assert.equal(sub.code, 0, sub.stderr);
  const run = sub.stdout.trim().split('\n').at(-1) ?? '';
  const wait = await cli(dir, ['status', run, ...target, '--wait', '--interval', '0.2']);
  assert.equal(wait.code, 0, wait.stderr);
  assert.match(wait.stdout, /: completed/);

  const tally = (name: string) => readFile(join(dir, `out-${name}`, 'tallies', 'report.json'));
  assert.ok((await tally('queue')).equals(await tally('local')), 'tallies/report.json differs from the local run\'s');
  const report = JSON.parse(await readFile(join(dir, 'out-queue', 'report', 'report.json'), 'utf8')) as { documents_basis: string };
  assert.match(report.documents_basis, /counted by the run's tasks as they wrote them$/);
});
