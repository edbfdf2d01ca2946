/**
 * `refinery calibrate`: per-language thresholds from a real run over the sample corpus (English
 * mail and speeches; German, Spanish, Italian, Russian and Chinese fortunes) through langid,
 * gopher-quality and fineweb. The LID thresholds must be FineWeb-2's rule over each language's
 * scores as the run wrote them; each filter threshold must remove from its language the share
 * the run's threshold removes from English; the written overrides must load into a pipeline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runStages } from '../pipeline/engine/run.ts';
import { readDocs } from '../pipeline/io/read.ts';
import { loadPipelineFile } from '../pipeline/config.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { calibrateRun } from '../classifiers/calibrate/calibrate-run.ts';
import { overridesYaml } from '../classifiers/calibrate/command.ts';
import { lidThreshold, matchingThreshold, SortedValues, THRESHOLD_RULES } from '../classifiers/calibrate/rules.ts';

const CORPUS = join(import.meta.dirname, '..', 'examples', 'corpus');

let runDir: Promise<string> | undefined;
function sampleRun(): Promise<string> {
  runDir ??= (async () => {
    registerBuiltinStages();
    const output = join(await mkdtemp(join(tmpdir(), 'refinery-calibrate-')), 'run');
    await runStages({
      inputs: ['email.jsonl.gz', 'speeches.jsonl.gz', 'multilingual.jsonl.gz'].map((f) => join(CORPUS, f)),
      output,
      stages: ['langid', 'gopher-quality', 'fineweb'].map((stage) => ({ stage })),
      workers: 1,
      quiet: true,
      origin: 'calibrate test',
    });
    return output;
  })();
  return runDir;
}

async function runDocs(run: string): Promise<Record<string, unknown>[]> {
  const metas: Record<string, unknown>[] = [];
  for (const folder of ['kept', 'rejected']) {
    for (const name of (await readdir(join(run, folder), { recursive: true })).map(String)) {
      if (!name.endsWith('.jsonl.gz')) continue;
      for await (const item of readDocs(join(run, folder, name))) if (item.kind === 'doc') metas.push(item.doc.meta);
    }
  }
  return metas;
}

test("quantile matching: the threshold removes the share asked for, as the stage's own comparison counts it", () => {
  const fractions = new SortedValues(Array.from({ length: 200 }, (_, i) => ((i * 37) % 101) / 100));
  const counts = new SortedValues(Array.from({ length: 200 }, (_, i) => (i * 37) % 151));
  for (const rule of THRESHOLD_RULES) {
    const values = rule.integer ? counts : fractions;
    for (const share of [0, 0.05, 0.3]) {
      const t = matchingThreshold(values, rule, share, 0.5);
      assert.ok(Math.abs(values.removed(rule, t) - share) <= 0.011, `${rule.stage}.${rule.option} share ${share}: ${t} removes ${values.removed(rule, t)}`);
    }
  }
  const max = THRESHOLD_RULES.find((r) => r.option === 'max_avg_word_length')!;
  assert.equal(matchingThreshold(new SortedValues([4, 5, 6]), max, 0, 10), 10, 'a rule the values never reach keeps its default');
  assert.deepEqual(lidThreshold([0.2, 0.4, 0.6, 0.8, 1.0]), { median: 0.6, std: Math.sqrt(0.08), threshold: 0.6 - Math.sqrt(0.08) });
  assert.equal(lidThreshold([0.99, 0.99, 0.98]).threshold, 0.9, 'capped at 0.9');
  assert.equal(lidThreshold([0.1, 0.2, 0.9]).threshold, 0.3, 'floored at 0.3');
});

test('calibrate a real run: LID thresholds by FineWeb-2\'s rule per language, filter thresholds matched to English, shares removed reported', async () => {
  const run = await sampleRun();
  const c = await calibrateRun(run, { reference: 'en', minDocs: 20, sampleDocs: 20_000 });
  const metas = await runDocs(run);
  const byLanguage = (l: string) => metas.filter((m) => m.language === l);
  assert.ok(c.languages.length >= 5, c.languages.map((l) => l.language).join());
  for (const l of c.languages) {
    const scores = byLanguage(l.language).map((m) => m.language_score as number);
    assert.equal(l.docs, scores.length);
    if (scores.length < 20) {
      assert.equal(l.lid, null);
      continue;
    }
    const expected = lidThreshold(scores);
    assert.equal(l.lid!.threshold, Math.round(expected.threshold * 1e4) / 1e4, l.language);
    assert.equal(l.lid!.removes_default, Math.round((scores.filter((s) => s < 0.65).length / scores.length) * 1e4) / 1e4);
  }
  const de = c.languages.find((l) => l.language === 'de');
  assert.ok(de?.lid, 'German fortunes are calibrated');
  assert.ok(Object.keys(c.reference_removes).length >= 4, JSON.stringify(c.reference_removes));
  let matched = 0;
  for (const l of c.languages) {
    for (const t of l.thresholds) {
      const share = c.reference_removes[`${t.stage}.${t.option}`]!;
      // Ties (many documents with one value) can keep a language from the exact share; the nearest is taken.
      const rule = THRESHOLD_RULES.find((r) => r.stage === t.stage && r.option === t.option)!;
      const values = new SortedValues(byLanguage(l.language).map((m) => rule.field.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], m)).filter((v): v is number => typeof v === 'number'));
      assert.equal(values.size, t.docs);
      assert.equal(t.removes_calibrated, Math.round(values.removed(rule, t.calibrated) * 1e4) / 1e4);
      const best = Math.min(...[...values.values, -1, 1e9, t.default].map((x) => Math.abs(values.removed(rule, x) - share)));
      assert.ok(Math.abs(values.removed(rule, t.calibrated) - share) <= best + 1e-9, `${l.language} ${t.stage}.${t.option}`);
      matched++;
    }
  }
  assert.ok(matched >= 3, `${matched} thresholds calibrated`);
  assert.ok(!c.languages.find((l) => l.language === 'en')!.thresholds.length, 'English keeps its defaults');
});

test('calibrate writes overrides a pipeline includes with overrides_from (after its own); the CLI prints the per-language table', async () => {
  const run = await sampleRun();
  const dir = await mkdtemp(join(tmpdir(), 'refinery-calibrated-'));
  const file = join(dir, 'overrides.yaml');
  const { stdout } = await promisify(execFile)(process.execPath, [join(import.meta.dirname, '..', 'bin', 'refinery.mjs'), 'calibrate', run, '-o', file, '--min-docs', '20'], {
    env: { ...process.env, REFINERY_FROM_SOURCE: '1' },
  });
  assert.match(stdout, /^en \(reference\) removes: /m);
  assert.match(stdout, /^de +\d+ +langid score +0\.65 +\d+\.\d% +0\.\d+ +\d+\.\d%$/m);
  const c = await calibrateRun(run, { reference: 'en', minDocs: 20, sampleDocs: 20_000 });
  assert.equal(await readFile(file, 'utf8'), overridesYaml(c));

  await writeFile(
    join(dir, 'p.yaml'),
    [
      'inputs: [in.jsonl]',
      'output: out',
      'stages:',
      '  - stage: langid',
      '    options: { language_threshold: 0.3 }',
      '  - stage: select',
      '    options: { where: [{ field: language_score, min: 0.65 }] }',
      '    overrides_from: overrides.yaml',
      '  - stage: gopher-quality',
      '    overrides: [{ when: { language: de }, options: { min_doc_words: 1 } }]',
      '    overrides_from: overrides.yaml',
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'in.jsonl'), '{"id":"a","text":"x"}\n');
  const config = await loadPipelineFile(join(dir, 'p.yaml'));
  const select = config.stages[1]!;
  const de = c.languages.find((l) => l.language === 'de')!;
  assert.deepEqual(select.overrides?.find((o) => o.when.language === 'de')?.options, { where: [{ field: 'language_score', min: de.lid!.threshold }] });
  const gopher = config.stages[2]!;
  assert.equal(gopher.overrides![0]!.when.language, 'de');
  assert.equal((gopher.overrides![0]!.options as { min_doc_words: number }).min_doc_words, 1, "the pipeline's own override comes first");

  await writeFile(join(dir, 'q.yaml'), 'inputs: [in.jsonl]\noutput: out\nstages:\n  - stage: fineweb\n    overrides_from: nowhere.yaml\n');
  await assert.rejects(loadPipelineFile(join(dir, 'q.yaml')), /q\.yaml: stages\[0\]\.overrides_from: cannot read nowhere\.yaml/);
});

test('calibrate names what is missing: run.json of a folder that is not a run, kept/ and rejected/ of a run without documents', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-not-a-run-'));
  await assert.rejects(calibrateRun(dir, { reference: 'en', minDocs: 20, sampleDocs: 100 }), (e: Error) => e.message.startsWith(`${join(dir, 'run.json')}: not a run`));
  await writeFile(join(dir, 'run.json'), JSON.stringify({ identity: { config: { stages: [] } } }));
  await assert.rejects(calibrateRun(dir, { reference: 'en', minDocs: 20, sampleDocs: 100 }), (e: Error) => e.message === `${dir}: no documents in kept/ or rejected/ (is it a finished run?)`);
});
