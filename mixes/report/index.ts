/** `refinery report <run dir> -o report/`: report.json, report.md and a self-contained report.html. */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { stableJson, writeFileAtomic } from '../../pipeline/io/atomic.ts';
import { RefineryError } from '../../pipeline/errors.ts';
import { collectRunReport } from './data.ts';
import { renderCharts } from './charts.ts';
import { chartSpecs, reportSections } from './section-list.ts';
import { reportMarkdown } from './markdown.ts';
import { reportHtml } from './html.ts';
import type { RunFiles } from '../../pipeline/run-folder/files.ts';

/** Every run writes stats.json; a folder without one is a mistyped path or not a run folder. */
async function checkRunFolder(runDir: string): Promise<void> {
  const dir = await stat(runDir).catch(() => undefined);
  if (!dir) throw new RefineryError(`${runDir}: no such folder`);
  if (!dir.isDirectory()) throw new RefineryError(`${runDir}: not a folder; pass the output folder of a run`);
  const stats = await stat(join(runDir, 'stats.json')).catch(() => undefined);
  if (!stats?.isFile()) throw new RefineryError(`${runDir}: no stats.json, so not the output folder of a run (refinery run, filter, dedup, tokenize or a queue run)`);
}

/** Writes the report of the run in `runDir` to `outDir`; `files` reads the run's files (a bucket run's task space; by default the folder's). */
export async function writeRunReport(runDir: string, outDir: string, files?: RunFiles): Promise<void> {
  await checkRunFolder(runDir);
  const report = await collectRunReport(runDir, files ? { files } : {});
  const sections = reportSections(report);
  const charts = await renderCharts(chartSpecs(report));
  await writeFileAtomic(join(outDir, 'report.json'), stableJson(report));
  await writeFileAtomic(join(outDir, 'report.md'), reportMarkdown(runDir, sections));
  await writeFileAtomic(join(outDir, 'report.html'), reportHtml(runDir, sections, charts));
}
