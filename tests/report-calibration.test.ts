/**
 * The report's per-language calibration section: a real run over the sample corpus (English mail
 * and speeches; German, Spanish, Italian, Russian and Chinese fortunes) through langid,
 * gopher-quality and fineweb. Before `refinery calibrate` its report says the section was not run;
 * calibrate records its Calibration in the run (stats/calibration.json), and the report then shows,
 * per language and threshold, exactly the values and shares that file holds. A second run that
 * includes the calibrated overrides file shows the thresholds it applied per language.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { runPipeline, runStages } from '../pipeline/engine/run.ts';
import { loadPipelineFile } from '../pipeline/config.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { writeRunReport } from '../mixes/report/index.ts';
import type { RunReport } from '../mixes/report/data.ts';
import { calibrateRun, type Calibration } from '../classifiers/calibrate/calibrate-run.ts';
import { parse, stringify } from 'yaml';
import { startS3 } from './fixtures/s3/s3-server.ts';

const root = join(import.meta.dirname, '..');
const CORPUS = join(root, 'examples', 'corpus');
const INPUTS = ['email.jsonl.gz', 'speeches.jsonl.gz', 'multilingual.jsonl.gz'].map((f) => join(CORPUS, f));

registerBuiltinStages();

async function report(run: string, out: string): Promise<{ json: RunReport; md: string }> {
  await writeRunReport(run, out);
  return { json: JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as RunReport, md: await readFile(join(out, 'report.md'), 'utf8') };
}

/** The section of report.md under its title, up to the next section. */
function mdSection(md: string): string {
  const start = md.indexOf('## Per-language calibration');
  assert.ok(start >= 0, 'report.md has the section');
  const end = md.indexOf('\n## ', start + 1);
  return md.slice(start, end < 0 ? undefined : end);
}

const share = (x: number) => `${(x * 100).toFixed(2)}%`;

const STAGES = ['langid', 'gopher-quality', 'fineweb'];
const refinery = (...args: string[]) => promisify(execFile)(process.execPath, [join(root, 'bin', 'refinery.mjs'), ...args], { env: { ...process.env, REFINERY_FROM_SOURCE: '1' } });

test('calibrate records its calibration in the run; the report shows per language the share each threshold removes at the default and calibrated, and the reference language\'s', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-calibration-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const run = join(dir, 'run');
  await runStages({ inputs: INPUTS, output: run, stages: STAGES.map((stage) => ({ stage })), workers: 1, quiet: true, origin: 'report calibration test' });

  const before = await report(run, join(dir, 'before'));
  assert.deepEqual(before.json.calibration, { available: false, note: 'not run: no stats/calibration.json (refinery calibrate <run> -o overrides.yaml writes it) and no per-language threshold overrides in run.json' });
  assert.match(mdSection(before.md), /not run: no stats\/calibration\.json/);

  const overrides = join(dir, 'overrides.yaml');
  const { stdout } = await refinery('calibrate', run, '-o', overrides, '--min-docs', '20');
  assert.match(stdout, /the calibration in .*stats\/calibration\.json \(refinery report /);
  const c = JSON.parse(await readFile(join(run, 'stats', 'calibration.json'), 'utf8')) as Calibration;
  assert.deepEqual(c, (parse(await readFile(overrides, 'utf8')) as { calibration: Calibration }).calibration, 'the run holds the calibration the overrides file carries');

  const after = await report(run, join(dir, 'after'));
  const section = after.json.calibration;
  assert.ok(section.available && section.measured, JSON.stringify(section));
  assert.deepEqual(section.applied, [], 'the run applied no per-language thresholds');
  const measured = section.measured;
  assert.equal(measured.reference, 'en');
  assert.deepEqual(measured.languages.map((l) => [l.language, l.docs]), c.languages.map((l) => [l.language, l.docs]));
  const enLid = c.languages.find((l) => l.language === 'en')!.lid!;
  const md = mdSection(after.md);
  let rows = 0;
  for (const l of c.languages) {
    const shown = measured.languages.find((x) => x.language === l.language)!;
    const expected = [
      ...(l.lid ? [{ threshold: 'langid score', docs: l.lid.docs, default: l.lid.default, calibrated: l.lid.threshold, removes_default: l.lid.removes_default, removes_calibrated: l.lid.removes_calibrated, reference_removes: enLid.removes_default }] : []),
      ...l.thresholds.map((x) => ({ threshold: `${x.stage}.${x.option}`, docs: x.docs, default: x.default, calibrated: x.calibrated, removes_default: x.removes_default, removes_calibrated: x.removes_calibrated, reference_removes: c.reference_removes[`${x.stage}.${x.option}`]! })),
    ];
    assert.deepEqual(shown.thresholds, expected, l.language);
    for (const x of expected) {
      const line = `| ${l.language} | ${l.docs} | ${x.threshold} | ${x.docs} | ${x.default} | ${share(x.removes_default)} | ${x.calibrated} | ${share(x.removes_calibrated)} | ${share(x.reference_removes)} |`;
      assert.ok(md.includes(line), `report.md shows ${line}\n${md}`);
      rows++;
    }
  }
  const de = c.languages.find((l) => l.language === 'de')!;
  assert.ok(de.lid && de.thresholds.length >= 2, 'German gets an LID threshold and filter thresholds');
  assert.ok(rows >= 10, `${rows} rows`);
  assert.match(md, /\| language \| documents \| threshold \| measured \| default \| removes \| calibrated \| removes \| en removes at default \|/);

  // A run that includes the calibrated file: the thresholds it applied per language, from its run.json.
  const calibrated = {
    inputs: INPUTS,
    output: 'calibrated-run',
    workers: 1,
    stages: [
      { stage: 'langid', options: { language_threshold: 0.3 } },
      { stage: 'select', options: { where: [{ field: 'language_score', min: 0.65 }] } },
      { stage: 'gopher-quality' },
      { stage: 'fineweb' },
    ].map((s) => (s.stage === 'langid' ? s : { ...s, overrides_from: 'overrides.yaml' })),
  };
  await writeFile(join(dir, 'calibrated.yaml'), stringify(calibrated));
  const second = (await runPipeline(await loadPipelineFile(join(dir, 'calibrated.yaml')), { quiet: true })).output;
  const applied = await report(second, join(dir, 'applied'));
  const a = applied.json.calibration;
  assert.ok(a.available, JSON.stringify(a));
  assert.equal(a.measured, null);
  const expectedApplied = c.languages
    .flatMap((l) => [
      ...(l.lid ? [{ language: l.language, threshold: 'langid score', default: 0.65, applied: l.lid.threshold }] : []),
      ...l.thresholds.filter((x) => x.calibrated !== x.default).map((x) => ({ language: l.language, threshold: `${x.stage}.${x.option}`, default: x.default, applied: x.calibrated })),
    ])
    .sort((x, y) => (x.language < y.language ? -1 : x.language > y.language ? 1 : 0));
  assert.deepEqual(a.applied, expectedApplied);
  const appliedMd = mdSection(applied.md);
  assert.match(appliedMd, /Not measured: no stats\/calibration\.json/);
  for (const x of expectedApplied) assert.ok(appliedMd.includes(`| ${x.language} | ${x.threshold} | ${x.default} | ${x.applied} |`), `${x.language} ${x.threshold}`);

  // A calibration file that is there but not in its shape is said so, naming the file and the field.
  await writeFile(join(run, 'stats', 'calibration.json'), JSON.stringify({ run, reference: 'en', reference_removes: {}, languages: 'none' }));
  const damaged = (await report(run, join(dir, 'damaged'))).json.calibration;
  assert.equal(damaged.available, false);
  assert.match(damaged.note, /^stats\/calibration\.json is not in the expected shape \(languages: /);
});

test('a run on a bucket: calibrate takes its s3:// prefix, stores the calibration there as the folder run\'s, and its report shows it', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-calibration-s3-'));
  const s3 = await startS3(['bkt']);
  t.after(async () => {
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });
  const folder = join(dir, 'run');
  await runStages({ inputs: INPUTS, output: folder, stages: STAGES.map((stage) => ({ stage })), workers: 1, quiet: true, origin: 'report calibration test' });
  await runStages({ inputs: INPUTS, output: 's3://bkt/runs/c', stages: STAGES.map((stage) => ({ stage })), workers: 1, quiet: true, origin: 'report calibration test' });

  const { stdout } = await refinery('calibrate', 's3://bkt/runs/c', '-o', join(dir, 'overrides.yaml'), '--min-docs', '20');
  assert.match(stdout, /the calibration in s3:\/\/bkt\/runs\/c\/stats\/calibration\.json \(refinery report s3:\/\/bkt\/runs\/c shows it\)/);
  const stored = JSON.parse((await s3.objects('bkt', 'runs/c')).get('stats/calibration.json')!.toString('utf8')) as Calibration;
  const here = await calibrateRun(folder, { reference: 'en', minDocs: 20, sampleDocs: 20_000 });
  assert.equal(stored.run, 's3://bkt/runs/c');
  assert.deepEqual({ ...stored, run: folder }, here, 'the same documents give the same calibration on a bucket as in a folder');

  await refinery('report', 's3://bkt/runs/c', '-o', join(dir, 'report'));
  const json = JSON.parse(await readFile(join(dir, 'report', 'report.json'), 'utf8')) as RunReport;
  assert.ok(json.calibration.available && json.calibration.measured);
  assert.deepEqual(json.calibration.measured.languages.map((l) => [l.language, l.docs]), here.languages.map((l) => [l.language, l.docs]));
});
