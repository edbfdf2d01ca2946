/**
 * Local progress by bytes: on a terminal, `refinery run` draws one live line with the input read
 * in bytes of the input files (a bar, the percentage, the rate, the time left), which reaches the
 * files' total size when the read phase ends, on striped and compressed inputs alike; with
 * `--log-format json` every progress line is a JSON log line instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { loadPipelineFile } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { formatBytes } from '../pipeline/engine/progress.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { captureStderr, stderrOnTerminal } from './capture-stderr.ts';
import { tempDir } from './temp-dirs.ts';
import { main } from '../bin/cli.ts';

registerBuiltinStages();

test('a run on a terminal shows the input read by bytes of the input files, up to their total, with rate and ETA', async (t) => {
  const dir = await tempDir('refinery-progress-');
  await mkdir(join(dir, 'in'));
  // A gzipped file and a plain one, both split into stripes (split_bytes): several read tasks per file.
  const lines = (n: number, tag: string) => Array.from({ length: n }, (_, i) => JSON.stringify({ id: `${tag}${i}`, text: `document ${i} of ${tag}: ${'words of text '.repeat(20 + (i % 7))}` })).join('\n');
  await writeFile(join(dir, 'in', 'big.jsonl.gz'), gzipSync(lines(6000, 'b')));
  await writeFile(join(dir, 'in', 'small.jsonl'), lines(300, 's'));
  const total = (await stat(join(dir, 'in', 'big.jsonl.gz'))).size + (await stat(join(dir, 'in', 'small.jsonl'))).size;
  const split = Math.ceil((await stat(join(dir, 'in', 'big.jsonl.gz'))).size / 3);
  await writeFile(join(dir, 'p.yaml'), `inputs: [in/*]\noutput: out\nsplit_bytes: ${split}\nworkers: 2\nstages: []\n`);
  stderrOnTerminal(t);
  const err = captureStderr(t);
  await runPipeline(await loadPipelineFile(join(dir, 'p.yaml')), { quiet: false });
  const draws = err.text().split('\r\x1b[K').filter((l) => l.startsWith('read and filter'));
  assert.ok(draws.length >= 2, JSON.stringify(err.text().slice(0, 3000)));
  const last = draws.at(-1) ?? '';
  assert.match(last, new RegExp(`^read and filter (\\d+)/\\1 tasks · \\[#{24}\\] 100% of input · ${formatBytes(total).replace('.', '\\.')} of ${formatBytes(total).replace('.', '\\.')} · \\S+ \\S+/s`), last);
  assert.doesNotMatch(last, /ETA/, 'no time left once everything is read');
  // Before the end the bar stood below 100% and gave a time left.
  const percents = draws.map((l) => Number(/(\d+)% of input/.exec(l)?.[1] ?? NaN));
  assert.ok(percents.every((p, i) => i === 0 || p >= (percents[i - 1] ?? 0)), `never goes back: ${percents.join(' ')}`);
  assert.ok(draws.some((l) => / · ETA \d+ (s|min)/.test(l) && !/100% of input/.test(l)), draws.join('\n'));
});

test('run --log-format json: every progress line is a JSON log line with level, time, the run id and the task id', async (t) => {
  const dir = await tempDir('refinery-log-json-');
  await mkdir(join(dir, 'in'));
  for (const s of [0, 1]) await writeFile(join(dir, 'in', `part-${s}.jsonl`), Array.from({ length: 50 }, (_, i) => JSON.stringify({ id: `s${s}-${i}`, text: `text ${i} of part ${s}` })).join('\n'));
  await writeFile(join(dir, 'p.yaml'), 'inputs: [in/*.jsonl]\noutput: out\nworkers: 1\nstages: []\n');
  const err = captureStderr(t);
  assert.equal(await main(['node', 'refinery', 'run', join(dir, 'p.yaml'), '--log-format', 'json', '--no-report']), 0);
  const lines = err.text().trim().split('\n').map((l) => JSON.parse(l) as { level: number; time: number; run?: string; task?: string; msg: string; docs?: number });
  const done = lines.filter((l) => l.task !== undefined);
  assert.deepEqual(done.map((l) => l.task).sort(), ['process-0-00000', 'process-0-00001']);
  const stats = JSON.parse(await readFile(join(dir, 'out', 'stats.json'), 'utf8')) as { config_hash: string };
  for (const l of lines) {
    assert.equal(l.level, 30);
    assert.equal(l.run, stats.config_hash);
    assert.ok(Math.abs(l.time - Date.now()) < 600_000);
  }
  assert.deepEqual(done.map((l) => l.docs), [50, 50]);
});
