/**
 * CLI: refinery calibrate <run> -o overrides.yaml — per-language thresholds from a run's own
 * distributions (calibrate-run.ts), written as `overrides` a pipeline includes with
 * `overrides_from:`, and a table, per language, of the share each threshold removes against
 * the reference language's default. The calibration is also written into the run
 * (stats/calibration.json), where `refinery report <run>` shows it.
 */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { stableJson, writeFileAtomic } from '../../pipeline/io/atomic.ts';
import { positiveInt } from '../../pipeline/cli/arguments.ts';
import { runPath, withRun } from '../../pipeline/run-folder/open-run.ts';
import { CALIBRATION_FILE, calibrateRun, overridesOf, type Calibration } from './calibrate-run.ts';
import { at } from '../../pipeline/checked-index.ts';

export function registerCalibrateCommand(program: Command): void {
  program
    .command('calibrate')
    .description("Per-language thresholds from a finished run's own distributions: LID by FineWeb-2's rule, filter thresholds by quantile matching to English; writes overrides a pipeline includes.")
    .argument('<run>', 'a finished run: its folder (kept/, rejected/, run.json) or its s3://bucket/prefix')
    .requiredOption('-o, --output <overrides.yaml>', 'the overrides file to write')
    .option('--reference <language>', 'the language whose thresholds the others are matched to', 'en')
    .option('--min-docs <n>', 'a language with fewer sampled documents gets no calibrated value', positiveInt, 100)
    .option('--sample-docs <n>', 'documents sampled per language (bottom-k of a hash of the id)', positiveInt, 20_000)
    .action(async (run: string, o: { output: string; reference: string; minDocs: number; sampleDocs: number }) => {
      // A folder or an s3:// prefix; a bucket run's shards are fetched as they are read, and the calibration stored back as one object.
      await withRun(run, async (opened) => {
        const c = await calibrateRun(opened.dir, { reference: o.reference, minDocs: o.minDocs, sampleDocs: o.sampleDocs }, opened.files, opened.location);
        await writeFileAtomic(o.output, overridesYaml(c));
        const recorded = runPath(opened, CALIBRATION_FILE);
        await writeFileAtomic(recorded, stableJson(c));
        await opened.put(recorded);
        process.stdout.write(`${calibrationTable(c)}\noverrides in ${o.output}; the calibration in ${opened.where(recorded)} (refinery report ${opened.location} shows it)\n`);
      });
    });
}

export function overridesYaml(c: Calibration): string {
  const header = [
    `# Per-language thresholds from the run ${c.run}, by refinery calibrate (docs/filters.md, "Per-language calibration").`,
    "# select: language-ID thresholds by FineWeb-2's rule, max(0.3, min(0.9, median - std)) of each language's scores;",
    '#   give langid language_threshold: 0.3 (the rule\'s floor) and put this select after it.',
    `# other stages: each threshold removes the share of a language's documents that the run's removes of ${c.reference}'s.`,
    '# Include: overrides_from: <this file> on each stage entry named under overrides.',
  ];
  return `${header.join('\n')}\n${stringify({ overrides: overridesOf(c), calibration: c }, { lineWidth: 0 })}`;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

export function calibrationTable(c: Calibration): string {
  const rows = [['language', 'docs', 'threshold', 'default', 'removes', 'calibrated', 'removes']];
  for (const l of c.languages) {
    if (l.lid) rows.push([l.language, String(l.docs), 'langid score', String(l.lid.default), pct(l.lid.removes_default), String(l.lid.threshold), pct(l.lid.removes_calibrated)]);
    for (const t of l.thresholds) rows.push([l.language, String(l.docs), `${t.stage}.${t.option}`, String(t.default), pct(t.removes_default), String(t.calibrated), pct(t.removes_calibrated)]);
  }
  const widths = at(rows, 0).map((_, i) => Math.max(...rows.map((r) => at(r, i).length)));
  const refs = Object.entries(c.reference_removes).map(([k, v]) => `${k} ${pct(v)}`).join(', ');
  return [`${c.reference} (reference) removes: ${refs || 'nothing measured'}`, ...rows.map((r) => r.map((cell, i) => cell.padEnd(at(widths, i))).join('  ').trimEnd())].join('\n');
}
