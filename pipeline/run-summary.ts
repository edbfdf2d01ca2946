/**
 * What every command that runs stages does at the end: the run-finished hook (the report), then
 * the funnel and where the outputs are; and, with --dry-run, the plan instead of the run.
 */
import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import type { RunConfig } from './config.ts';
import { runPipeline, type RunResult } from './run.ts';
import { dryRun } from './dry-run.ts';
import { funnelMarkdown } from './stats.ts';

/** What the composition root does when a run has finished, given the run's output folder. */
export type RunFinishedHook = (output: string) => Promise<void>;

export interface CommandRunOptions {
  force: boolean;
  quiet: boolean;
  /** --dry-run: print the plan and stop. */
  dryRun?: boolean;
  /** false with --no-report. */
  report: boolean;
}

/**
 * Runs a command's pipeline: with --dry-run prints the plan; else runs it, calls the hook (unless
 * --no-report) and prints the summary (`summarize`, by default the funnel and the output folders).
 */
export async function runFromCommand(
  config: RunConfig,
  o: CommandRunOptions,
  onRunFinished: RunFinishedHook | undefined,
  summarize: (result: RunResult, withReport: boolean) => void = printRunSummary,
): Promise<void> {
  if (o.dryRun) {
    process.stdout.write(await dryRun(config));
    return;
  }
  const report = o.report && onRunFinished !== undefined;
  const result = await runPipeline(config, { force: o.force, quiet: o.quiet, ...(report ? { onFinished: onRunFinished } : {}) });
  summarize(result, report);
}

export function printRunSummary(result: RunResult, withReport = false): void {
  const rel = relative(process.cwd(), result.output);
  const shown = result.publishedTo ?? (!rel ? '.' : rel.startsWith('..') || isAbsolute(rel) ? result.output : rel);
  const extra = ['stats', 'tokens'].filter((d) => existsSync(join(result.output, d))).map((d) => `, ${d}/`).join('');
  const report = withReport ? `\nReport for researchers: ${join(shown, 'report', 'report.html')} (and report.md, report.json)` : '';
  process.stdout.write(`\n${funnelMarkdown(result.stats)}\nOutputs in ${shown}/: kept/, rejected/, errors/${extra}, stats.json, report.md${report}\n`);
}
