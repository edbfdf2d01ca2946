/**
 * The report's tally merges to the same bytes whatever the order its tasks' parts come in (a
 * local run with one thread or two, a queue run reading the tasks' markers), and a run folder
 * read back gives the figures the tasks counted.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareConfig } from '../pipeline/config.ts';
import { finishRun, makePlan, runPipeline } from '../pipeline/engine/run.ts';
import { finishedTasks, type TaskResult } from '../pipeline/engine/markers.ts';
import { roundTasks } from '../pipeline/engine/run-plan.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { collectRunReport } from '../mixes/report/data.ts';

registerBuiltinStages();

const PLUGIN = join(import.meta.dirname, 'fixtures', 'report', 'cheap-rules.ts');
const LANGUAGES = ['en', 'de', 'fr'];

/** Three shards; texts repeat across shards, so exact-dedup (a global stage) rejects in the second segment. */
async function writeCorpus(dir: string): Promise<void> {
  for (let s = 0; s < 3; s++) {
    const lines = Array.from({ length: 400 }, (_, k) => {
      const i = s * 400 + k;
      return JSON.stringify({ id: `d${i}`, text: `${'ab'.repeat(i % 7)}${i % 11}`, source: `s${i % 2}`, language: LANGUAGES[i % 3], quality_score: (i % 100) / 100 });
    });
    await writeFile(join(dir, `part-${s}.jsonl`), lines.join('\n') + '\n');
  }
}

async function run(dir: string, name: string, workers: number) {
  const config = await prepareConfig(
    { inputs: ['part-*.jsonl'], output: name, workers, seed: 3, plugins: [PLUGIN], stages: [{ stage: 'cheap-rules', options: { min_chars: 2 } }, 'exact-dedup'] },
    { file: 'test', baseDir: dir },
  );
  await runPipeline(config, { quiet: true });
  return config;
}

test('the tally is the same bytes from one thread, two threads, and the tasks\' markers in reverse order', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-tally-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeCorpus(dir);
  const one = await run(dir, 'one', 1);
  await run(dir, 'two', 2);
  const tally = (name: string) => readFile(join(dir, name, 'tallies', 'report.json'), 'utf8');
  const first = await tally('one');
  assert.equal(await tally('two'), first);

  // As a queue run finishes: every task's result read back from its marker, in any order.
  const plan = await makePlan(one);
  const tasks = plan.phases.flatMap((p) => roundTasks(p, 0));
  const results = (await finishedTasks(plan, tasks)).filter((r): r is TaskResult => r !== null);
  assert.equal(results.length, tasks.length);
  assert.ok(results.filter((r) => r.task.kind === 'process').every((r) => r.tallies?.report !== undefined), 'each process task\'s marker holds its part');
  await rm(join(dir, 'one', 'tallies'), { recursive: true });
  await finishRun(plan, [...results].reverse());
  assert.equal(await tally('one'), first);
});

test('read back from the run folder, the report shows what the tasks counted', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-tally-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeCorpus(dir);
  await run(dir, 'out', 2);
  const gathered = await collectRunReport(join(dir, 'out'));
  await rm(join(dir, 'out', 'tallies'), { recursive: true });
  const readBack = await collectRunReport(join(dir, 'out'));
  assert.match(gathered.documents_basis, /counted by the run's tasks as they wrote them$/);
  assert.match(readBack.documents_basis, /read back from the run folder$/);
  for (const key of ['examples', 'funnel_by_source', 'funnel_by_language', 'histograms', 'dedup'] as const) assert.deepEqual(readBack[key], gathered[key], key);
  assert.ok(gathered.languages.available && readBack.languages.available);
  assert.deepEqual(readBack.languages.rows, gathered.languages.rows);
  assert.ok(Object.keys(gathered.examples).includes('exact-dedup:exact'), 'the second segment\'s rejections are counted');
  assert.ok(gathered.quality_scores.available && readBack.quality_scores.available);
  assert.deepEqual(readBack.quality_scores.fields.map((f) => f.bins), gathered.quality_scores.fields.map((f) => f.bins));
});
