/** `refinery report <run dir> -o report/`: report.json, report.md and a self-contained report.html. */
import { join } from 'node:path';
import { stableJson, writeFileAtomic } from '../pipeline/io/atomic.ts';
import { collectRunReport } from './report-data.ts';
import { renderCharts } from './report-charts.ts';
import { reportSections } from './report-tables.ts';
import { reportMarkdown } from './report-markdown.ts';
import { reportHtml } from './report-html.ts';

export async function writeRunReport(runDir: string, outDir: string): Promise<void> {
  const report = await collectRunReport(runDir);
  const sections = reportSections(report);
  const charts = await renderCharts(report);
  await writeFileAtomic(join(outDir, 'report.json'), stableJson(report));
  await writeFileAtomic(join(outDir, 'report.md'), reportMarkdown(runDir, sections));
  await writeFileAtomic(join(outDir, 'report.html'), reportHtml(runDir, sections, charts));
}
