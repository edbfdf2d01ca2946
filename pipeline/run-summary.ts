/** What every command that runs stages prints at the end: the funnel and where the outputs are. */
import { join, relative } from 'node:path';
import type { RunResult } from './run.ts';
import { funnelMarkdown } from './stats.ts';

export function printRunSummary(result: RunResult, withReport = false): void {
  const rel = relative(process.cwd(), result.output) || '.';
  const report = withReport ? `\nReport for researchers: ${join(rel, 'report', 'report.html')} (and report.md, report.json)` : '';
  process.stdout.write(`\n${funnelMarkdown(result.stats)}\nOutputs in ${rel}/: kept/, rejected/, errors/, stats.json, report.md${report}\n`);
}
