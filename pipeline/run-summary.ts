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

/** Where a run's output `parts` are for the user: in its bucket when it published there (s3:// URL), else the path, relative to here when inside it. */
export function outputPath(result: RunResult, ...parts: string[]): string {
  if (result.publishedTo) return [result.publishedTo, ...parts].join('/');
  const rel = relative(process.cwd(), join(result.output, ...parts));
  return !rel ? '.' : rel.startsWith('..') || isAbsolute(rel) ? join(result.output, ...parts) : rel;
}

export function printRunSummary(result: RunResult, withReport = false): void {
  const extra = ['stats', 'tokens'].filter((d) => existsSync(join(result.output, d))).map((d) => `, ${d}/`).join('');
  // A report in a bucket is not a page to open: its staging copy is.
  const report = withReport ? `\nReport for researchers: ${result.publishedTo ? `${join(result.output, 'report', 'report.html')} (published as ${outputPath(result, 'report', 'report.html')})` : outputPath(result, 'report', 'report.html')} (and report.md, report.json)` : '';
  process.stdout.write(`\n${funnelMarkdown(result.stats)}\nOutputs in ${outputPath(result)}/: kept/, rejected/, errors/${extra}, stats.json, report.md${report}\n`);
}
