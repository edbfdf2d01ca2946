/**
 * With per-language overrides, a document is judged by its override's options: the runner records
 * which (`meta.<stage>.judged_by`), and inspect, the report's examples and its histograms show that
 * threshold, not the stage's own.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prepareConfig } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { writeRunReport } from '../mixes/report/index.ts';
import type { RunReport } from '../mixes/report/data.ts';
import { formatInspected, inspectRun } from '../mixes/inspect.ts';
import { readJsonlDir } from './output-files.ts';

registerBuiltinStages();

const SENTENCE = 'The cat and the dog went to the park with a ball that they liked to play with every day.';
/** A text of `n` words of plain prose. */
const words = (n: number) => `${SENTENCE} `.repeat(Math.ceil(n / 19)).split(' ').slice(0, n).join(' ');

test('a German document under a min_doc_words override of 10 is shown dropped below 10 (language: de), an English one below 50', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-overrides-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const docs = [
    { id: 'en-20', text: words(20), language: 'en' },
    { id: 'en-25', text: words(25), language: 'en' },
    { id: 'de-5', text: words(5), language: 'de' },
    { id: 'de-6', text: words(6), language: 'de' },
    { id: 'de-20', text: words(20), language: 'de' },
    { id: 'fr-60', text: words(60), language: 'fr' },
  ];
  await writeFile(join(dir, 'in.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const config = await prepareConfig(
    { inputs: ['in.jsonl'], output: 'out', workers: 1, stages: [{ stage: 'gopher-quality', options: { min_doc_words: 50 }, overrides: [{ when: { language: 'de' }, options: { min_doc_words: 10 } }] }] },
    { file: 'test', baseDir: dir },
  );
  const run = (await runPipeline(config, { quiet: true })).output;

  // Recorded where the stage keeps its measurements; nothing for a document the base options judged.
  const rejected = await readJsonlDir<{ id: string; meta: { gopher_quality: Record<string, unknown>; reject_reason: string } }>(join(run, 'rejected'));
  assert.deepEqual(rejected.map((d) => [d.id, d.meta.reject_reason, d.meta.gopher_quality.judged_by]).sort(), [['de-5', 'gopher-quality:short_doc', 'overrides[0]'], ['de-6', 'gopher-quality:short_doc', 'overrides[0]'], ['en-20', 'gopher-quality:short_doc', undefined], ['en-25', 'gopher-quality:short_doc', undefined]]);

  const seen = await inspectRun(run, { reason: 'gopher-quality:short_doc' }, 10);
  const byId = new Map(seen.docs.map((d) => [d.id, d]));
  assert.equal(byId.get('de-5')?.threshold, 10);
  assert.equal(byId.get('de-5')?.when, 'language: de');
  assert.equal(byId.get('en-20')?.threshold, 50);
  assert.equal(byId.get('en-20')?.when, undefined);
  assert.match(formatInspected(byId.get('de-5')!), /gopher_quality\.words = 5 \(dropped below 10, language: de\)/);
  assert.match(formatInspected(byId.get('en-20')!), /gopher_quality\.words = 20 \(dropped below 50\)/);

  await writeRunReport(run, join(run, 'report'));
  const report = JSON.parse(await readFile(join(run, 'report', 'report.json'), 'utf8')) as RunReport;
  const examples = new Map(report.examples['gopher-quality:short_doc']!.map((e) => [e.id, e]));
  assert.deepEqual([...examples.keys()].sort(), ['de-5', 'de-6', 'en-20', 'en-25']);
  assert.deepEqual([examples.get('de-6')?.threshold, examples.get('de-6')?.when], [10, 'language: de']);
  assert.deepEqual([examples.get('en-25')?.threshold, examples.get('en-25')?.when], [50, undefined]);
  const histogram = report.histograms['gopher_quality.words']!;
  assert.deepEqual(
    histogram.thresholds.filter((x) => x.rule === 'gopher-quality:short_doc').map((x) => [x.value, x.when]),
    [[50, undefined], [10, 'language: de']],
  );
  assert.equal(histogram.this_rule, 4);
  const md = await readFile(join(run, 'report', 'report.md'), 'utf8');
  assert.match(md, /\| de-5 \| unknown \| de \| 5 \| 10 \(language: de\) \|/);
  assert.match(md, /&lt; 50, &lt; 10 \(language: de\)/);
  assert.match(await readFile(join(run, 'report', 'report.html'), 'utf8'), /short_doc &lt; 10 \(language: de\)/);
});
