/** What every command that runs stages prints at the end: the funnel and where the outputs are. */
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { RunResult } from './run.ts';
import { funnelMarkdown } from './stats.ts';

export function printRunSummary(result: RunResult, withReport = false): void {
  const rel = relative(process.cwd(), result.output);
  const shown = !rel ? '.' : rel.startsWith('..') || isAbsolute(rel) ? result.output : rel;
  const extra = ['stats', 'tokens'].filter((d) => existsSync(join(result.output, d))).map((d) => `, ${d}/`).join('');
  const report = withReport ? `\nReport for researchers: ${join(shown, 'report', 'report.html')} (and report.md, report.json)` : '';
  process.stdout.write(`\n${funnelMarkdown(result.stats)}\nOutputs in ${shown}/: kept/, rejected/, errors/${extra}, stats.json, report.md${report}\n`);
}
