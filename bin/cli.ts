/**
 * The `refinery` command line. Each folder registers its own commands; this file wires them and
 * imports a folder's command module only when that command runs (or help lists every command),
 * so that `refinery --version` or `refinery run` do not load what other commands need.
 */
import { Command, Option } from 'commander';
import { addTrialFlags, positiveInt, trialOverrides, type TrialFlags } from '../pipeline/cli/arguments.ts';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packagePath } from '../pipeline/package-root.ts';
import { RefineryError } from '../pipeline/errors.ts';
import { loadAllStages, loadStage, stageNames } from '../pipeline/registry.ts';
import { formatOptionFields, optionFields } from '../pipeline/cli/option-flags.ts';
import { registerBuiltinStages } from './builtin-stages.ts';
import type { RunFiles } from '../pipeline/run-folder/files.ts';

/** The run-finished hook: the researcher report in <run>/report/ (`dir` is the run's local view, `files` reads the rest of it). */
async function writeReport(dir: string, files: RunFiles): Promise<void> {
  const { writeRunReport } = await import('../mixes/report/index.ts');
  await writeRunReport(dir, join(dir, 'report'), files);
}

type Register = (program: Command) => void;

/** Commands of the domain folders, by the names they register, imported on demand. */
const COMMAND_MODULES: { names: string[]; load: () => Promise<Register> }[] = [
  { names: ['filter'], load: async () => {
    const { registerFilterCommand } = await import('../filters/command.ts');
    return (program) => registerFilterCommand(program, writeReport);
  } },
  { names: ['dedup', 'dedup-model'], load: async () => {
    const { registerDedupCommand } = await import('../dedup/command.ts');
    return (program) => registerDedupCommand(program, writeReport);
  } },
  { names: ['tokenize'], load: async () => {
    const { registerTokenizeCommand } = await import('../mixes/shards/command.ts');
    return (program) => registerTokenizeCommand(program, writeReport);
  } },
  { names: ['export'], load: async () => (await import('../mixes/shards/export-command.ts')).registerExportCommand },
  { names: ['classify'], load: async () => (await import('../classifiers/command.ts')).registerClassifyCommand },
  { names: ['calibrate'], load: async () => (await import('../classifiers/calibrate/command.ts')).registerCalibrateCommand },
  { names: ['mix', 'report'], load: async () => (await import('../mixes/command.ts')).registerMixCommands },
  { names: ['inspect'], load: async () => (await import('../mixes/inspect.ts')).registerInspectCommand },
  { names: ['remove'], load: async () => {
    const { registerRemoveCommand } = await import('../takedown/command.ts');
    return (program) => registerRemoveCommand(program, writeReport);
  } },
  { names: ['decontam'], load: async () => {
    const { decontamCommand } = await import('../decontam/command.ts');
    return (program) => program.addCommand(decontamCommand());
  } },
  { names: ['submit', 'worker', 'status'], load: async () => {
    const { registerQueueCommands } = await import('../pipeline/queue/command.ts');
    return (program) => registerQueueCommands(program, writeReport);
  } },
  { names: ['runs', 'cancel', 'pause', 'resume', 'workers'], load: async () => (await import('../pipeline/queue/control-command.ts')).registerControlCommands },
];

/** The command that `argv` runs, if it names one before any option; null for none. */
function commandOf(argv: readonly string[]): string | null {
  const first = argv.slice(2).find((a) => !a.startsWith('-'));
  return first ?? null;
}

/**
 * The program for `argv`: the commands of this file, and the domain commands that `argv` needs
 * (all of them for help, a bare `refinery` or an unknown command, so that help lists every one).
 * Without `argv`, every command.
 */
export async function buildProgram(argv?: readonly string[]): Promise<Command> {
  registerBuiltinStages();
  const program = new Command('refinery')
    .description('Curate LLM pretraining data: filters, deduplication, quality classifiers, mix planning, tokenized Parquet shards.')
    .version((JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string }).version)
    .showHelpAfterError()
    .configureOutput({ outputError: (s, write) => write(s) });

  addTrialFlags(program
    .command('run')
    .description('Run a pipeline described in YAML (inputs, stages in order, output folder).')
    .argument('<pipeline.yaml>', 'pipeline file')
    .option('-i, --input <paths...>', 'input files or globs, instead of the pipeline\'s inputs')
    .option('-o, --output <dir>', 'output folder or s3://bucket/prefix, instead of the pipeline\'s output')
    .option('--work-dir <dir>', 'with an s3:// output: the local folder where tasks keep their scratch (default: under TMPDIR)')
    .option('-w, --workers <n>', 'worker threads (default: the pipeline\'s workers, else every core)', positiveInt)
    .option('--force', 'redo every task instead of resuming a finished or interrupted run', false)
    .option('-q, --quiet', 'no progress output', false)
    .option('--no-report', 'skip the researcher report (report/report.html, .md, .json)')
    .addOption(new Option('--log-format <format>', 'progress as text lines, or as JSON log lines (pino: level, time, run and task ids) for a log collector').choices(['text', 'json']).default('text'))
    .addOption(new Option('--compat <mode>', 'decide as another implementation does, instead of the pipeline\'s compat: datatrove (docs/filters.md)').choices(['datatrove'])))
    .action(async (file: string, o: TrialFlags & { input?: string[]; output?: string; workDir?: string; workers?: number; force: boolean; quiet: boolean; report: boolean; logFormat: 'text' | 'json'; compat?: 'datatrove' }) => {
      const [{ loadPipelineFile }, { runFromCommand }] = await Promise.all([import('../pipeline/config.ts'), import('../pipeline/cli/run-summary.ts')]);
      const config = await loadPipelineFile(file, { ...(o.input ? { inputs: o.input } : {}), ...(o.output ? { output: o.output } : {}), ...(o.workDir ? { workDir: o.workDir } : {}), ...(o.workers ? { workers: o.workers } : {}), ...(o.compat ? { compat: o.compat } : {}), ...trialOverrides(o) });
      await runFromCommand(config, o, writeReport);
    });

  program
    .command('stages')
    .description('List every stage usable in pipeline YAML, with its kind and purpose; given a name, that stage\'s options with their type, default and description.')
    .argument('[name]', 'a stage, e.g. minhash-dedup')
    .action(async (name: string | undefined) => {
      if (name === undefined) {
        for (const s of await loadAllStages()) process.stdout.write(`${s.name.padEnd(20)} ${s.kind.padEnd(10)} ${s.description}\n`);
        return;
      }
      const stage = await loadStage(name);
      if (!stage) throw new RefineryError(`unknown stage "${name}"; choose from ${stageNames().join(', ')}`);
      process.stdout.write(`${stage.name} (${stage.kind}): ${stage.description}\n\nOptions (pipeline YAML \`options:\`):\n${formatOptionFields(optionFields(stage.options))}`);
    });

  const command = argv ? commandOf(argv) : null;
  const own = ['run', 'stages'];
  const wanted = COMMAND_MODULES.filter((m) => m.names.includes(command ?? ''));
  const onlyVersion = argv !== undefined && command === null && argv.some((a) => a === '-V' || a === '--version');
  if (wanted.length === 0 && !onlyVersion && !(command !== null && own.includes(command))) wanted.push(...COMMAND_MODULES);
  for (const m of wanted) (await m.load())(program);
  return program;
}

let pipeWatched = false;

/**
 * A reader that stops early (`refinery inspect --json | head`) closes the pipe: the rest of the
 * output is not wanted, which is no error, so the program ends quietly (status 0) instead of
 * dying on the write's EPIPE with a stack trace.
 */
function endQuietlyOnClosedPipe(): void {
  if (pipeWatched) return;
  pipeWatched = true;
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(0);
  });
}

export async function main(argv: string[]): Promise<number> {
  endQuietlyOnClosedPipe();
  const debug = Boolean(process.env.REFINERY_DEBUG);
  try {
    await (await buildProgram(argv)).parseAsync(argv);
    return 0;
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // What the machine refuses (a read-only or full disk, too many open files) is the user's to fix, not a bug.
    const refused = ['EACCES', 'EPERM', 'EROFS', 'ENOSPC', 'EDQUOT', 'EMFILE', 'ENFILE'].includes(String(e?.code));
    if (err instanceof RefineryError || refused) {
      process.stderr.write(`refinery: ${e.message}\n`);
      if (debug) process.stderr.write(`${e.stack ?? ''}\n`);
      return 1;
    }
    process.stderr.write(`refinery: unexpected error: ${e?.message ?? String(err)}\n`);
    if (debug) process.stderr.write(`${e?.stack ?? ''}\n`);
    else process.stderr.write('(set REFINERY_DEBUG=1 for the stack trace; please report it)\n');
    return 2;
  }
}
