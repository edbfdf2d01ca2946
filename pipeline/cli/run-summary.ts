/**
 * What every command that runs stages does at the end: the run-finished hook (the report), then
 * the funnel and where the outputs are; and, with --dry-run, the plan instead of the run.
 */
import type { RunConfig } from '../config.ts';
import { runPipeline, type RunFinishedHook, type RunResult } from '../engine/run.ts';
import { dryRun } from './dry-run.ts';
import { funnelMarkdown } from '../stats.ts';
import { createLogger, type LogFormat } from '../logger.ts';

export type { RunFinishedHook } from '../engine/run.ts';

export interface CommandRunOptions {
  force: boolean;
  quiet: boolean;
  /** --dry-run: print the plan and stop. */
  dryRun?: boolean;
  /** false with --no-report. */
  report: boolean;
  /** --log-format json: progress lines as JSON log lines (pino) instead of text. */
  logFormat?: LogFormat;
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
  const log = o.logFormat === 'json' ? { log: createLogger('run', 'json') } : {};
  const result = await runPipeline(config, { force: o.force, quiet: o.quiet, ...log, ...(report ? { onFinished: onRunFinished } : {}) });
  summarize(result, report);
}

/** Where a run's output `parts` are, as the user is told. */
export function outputPath(result: RunResult, ...parts: string[]): string {
  return result.shown(...parts);
}

export function printRunSummary(result: RunResult, withReport = false): void {
  const extra = ['stats', 'tokens'].filter((d) => result.names.includes(d)).map((d) => `, ${d}/`).join('');
  const report = withReport ? `\nReport for researchers: ${outputPath(result, 'report', 'report.html')} (and report.md, report.json)` : '';
  process.stdout.write(`\n${funnelMarkdown(result.stats)}\nOutputs in ${outputPath(result)}/: kept/, rejected/, errors/${extra}, stats.json, report.md${report}\n`);
}
