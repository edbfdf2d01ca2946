/** The `refinery` command line. Each folder registers its own commands; this file wires them. */
import { Command } from 'commander';
import { positiveInt } from '../pipeline/cli-arguments.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../pipeline/package-root.ts';
import { writeRunReport } from '../mixes/report/index.ts';
import { loadPipelineFile } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/run.ts';
import { RefineryError } from '../pipeline/errors.ts';
import { loadAllStages } from '../pipeline/registry.ts';
import { registerBuiltinStages } from './builtin-stages.ts';
import { printRunSummary } from '../pipeline/run-summary.ts';
import { registerFilterCommand } from '../filters/command.ts';
import { registerDedupCommand } from '../dedup/command.ts';
import { registerClassifyCommand } from '../classifiers/command.ts';
import { registerTokenizeCommand } from '../mixes/shards/command.ts';
import { registerMixCommands } from '../mixes/command.ts';
import { registerQueueCommands } from '../pipeline/queue/command.ts';

/** The run-finished hook: the researcher report in <output>/report/. */
const writeReport = (output: string) => writeRunReport(output, join(output, 'report'));

export function buildProgram(): Command {
  registerBuiltinStages();
  const program = new Command('refinery')
    .description('Curate LLM pretraining data: filters, deduplication, quality classifiers, mix planning, tokenized Parquet shards.')
    .version((JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version)
    .showHelpAfterError()
    .configureOutput({ outputError: (s, write) => write(s) });

  program
    .command('run')
    .description('Run a pipeline described in YAML (inputs, stages in order, output folder).')
    .argument('<pipeline.yaml>', 'pipeline file')
    .option('-i, --input <paths...>', 'input files or globs, instead of the pipeline\'s inputs')
    .option('-o, --output <dir>', 'output folder, instead of the pipeline\'s output')
    .option('-w, --workers <n>', 'worker threads (default: the pipeline\'s workers, else every core)', positiveInt)
    .option('--force', 'redo every task instead of resuming a finished or interrupted run', false)
    .option('-q, --quiet', 'no progress output', false)
    .option('--no-report', 'skip the researcher report (report/report.html, .md, .json)')
    .action(async (file: string, o: { input?: string[]; output?: string; workers?: number; force: boolean; quiet: boolean; report: boolean }) => {
      const config = await loadPipelineFile(file, { ...(o.input ? { inputs: o.input } : {}), ...(o.output ? { output: o.output } : {}), ...(o.workers ? { workers: o.workers } : {}) });
      const result = await runPipeline(config, { force: o.force, quiet: o.quiet });
      if (o.report) await writeReport(result.output);
      printRunSummary(result, o.report);
    });

  program
    .command('stages')
    .description('List every stage usable in pipeline YAML, with its kind and purpose.')
    .action(async () => {
      for (const s of await loadAllStages()) process.stdout.write(`${s.name.padEnd(20)} ${s.kind.padEnd(10)} ${s.description}\n`);
    });

  registerFilterCommand(program);
  registerDedupCommand(program);
  registerTokenizeCommand(program);
  registerClassifyCommand(program);
  registerMixCommands(program);
  registerQueueCommands(program, writeReport);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof RefineryError) {
      process.stderr.write(`refinery: ${err.message}\n`);
      return 1;
    }
    const e = err as Error;
    process.stderr.write(`refinery: unexpected error: ${e?.message ?? String(err)}\n`);
    if (process.env.REFINERY_DEBUG) process.stderr.write(`${e?.stack ?? ''}\n`);
    else process.stderr.write('(set REFINERY_DEBUG=1 for the stack trace; please report it)\n');
    return 2;
  }
}
