/** CLI: refinery filter <inputs...> -o <dir> [--stages a,b,...] [--workers N] [--force]. */
import { addTrialFlags, trialOverrides, wholeNumber, type TrialFlags } from '../pipeline/cli/arguments.ts';
import { Command, InvalidArgumentError, Option } from 'commander';
import { prepareConfig } from '../pipeline/config.ts';
import { runFromCommand, type RunFinishedHook } from '../pipeline/cli/run-summary.ts';
import { defaultFilterStages, filterStageModules } from './stages.ts';

function stageList(value: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  const known = new Set(Object.keys(filterStageModules));
  const unknown = names.filter((n) => !known.has(n));
  if (unknown.length > 0) throw new InvalidArgumentError(`unknown filter stage ${unknown.join(', ')}; choose from ${[...known].join(', ')}`);
  if (names.length === 0) throw new InvalidArgumentError('name at least one stage');
  return names;
}


/** `onRunFinished`: what runs after the filters (the composition root's report), unless --no-report. */
export function registerFilterCommand(program: Command, onRunFinished?: RunFinishedHook): void {
  addTrialFlags(program
    .command('filter')
    .description(`Run the quality, safety and language filters (default: ${defaultFilterStages.join(', ')}).`)
    .argument('<inputs...>', 'input files, folders or globs (JSONL, Parquet, WARC/WET)')
    .requiredOption('-o, --output <dir>', 'output folder or s3://bucket/prefix: kept/, rejected/, errors/, stats.json, report.md, report/')
    .option('-s, --stages <a,b,...>', 'filter stages to run, in this order (default options; use `refinery run` with YAML to set options)', stageList)
    .option('-w, --workers <n>', 'worker threads (default: every core)', wholeNumber(1))
    .option('--seed <n>', 'seed for the sampled reference of token-outlier', wholeNumber(0), 0)
    .option('--force', 'redo every task instead of resuming a finished or interrupted run', false)
    .option('-q, --quiet', 'no progress output', false)
    .option('--no-report', 'skip the researcher report (report/report.html, .md, .json)')
    .addOption(new Option('--compat <mode>', 'decide as another implementation does: datatrove (Gopher, C4, FineWeb as datatrove 0.10.0; docs/filters.md)').choices(['datatrove'])))
    .action(async (inputs: string[], o: TrialFlags & { output: string; stages?: string[]; workers?: number; seed: number; force: boolean; quiet: boolean; report: boolean; compat?: 'datatrove' }) => {
      const config = await prepareConfig(
        {
          inputs,
          output: o.output,
          stages: (o.stages ?? defaultFilterStages).map((stage) => ({ stage })),
          ...(o.workers ? { workers: o.workers } : {}),
          seed: o.seed,
          ...(o.compat ? { compat: o.compat } : {}),
          ...trialOverrides(o),
        },
        { file: 'refinery filter', baseDir: process.cwd() },
      );
      await runFromCommand(config, o, onRunFinished);
    });
}
