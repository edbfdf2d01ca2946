/** CLI: refinery dedup <inputs...> -o <dir> --method exact|url|minhash|lines|semantic [--method ...]. */
import { Command, InvalidArgumentError } from 'commander';
import { runStages } from '../pipeline/run.ts';
import { funnelMarkdown } from '../pipeline/stats.ts';

/** Command-line method name → stage name (the same stages in pipeline YAML). */
export const DEDUP_METHODS: Record<string, string> = {
  exact: 'exact-dedup',
  url: 'url-dedup',
  minhash: 'minhash-dedup',
  lines: 'line-dedup',
  semantic: 'semantic-dedup',
};

function collectMethods(value: string, previous: string[] | undefined): string[] {
  const names = value.split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(n in DEDUP_METHODS)) throw new InvalidArgumentError(`unknown method "${n}"; choose from ${Object.keys(DEDUP_METHODS).join(', ')}`);
  }
  return [...(previous ?? []), ...names];
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a whole number of 1 or more');
  return n;
}

interface DedupCommandOptions {
  output: string;
  method?: string[];
  model?: string;
  workers?: number;
  seed: number;
  force: boolean;
  quiet: boolean;
}

export function registerDedupCommand(program: Command): void {
  program
    .command('dedup')
    .description('Remove duplicates: exact, URL (most recent kept), MinHash near-duplicates, repeated lines, semantic (embeddings). Methods run in the order given.')
    .argument('<inputs...>', 'input files, folders or globs (JSONL, Parquet, WARC/WET)')
    .requiredOption('-o, --output <dir>', 'output folder: kept/, rejected/ (with meta.duplicate_of), errors/, stats.json, stats/<method>.json, report.md')
    .option('-m, --method <name>', `method, repeatable or comma-separated: ${Object.keys(DEDUP_METHODS).join(', ')} (default: minhash)`, collectMethods)
    .option('--model <dir>', 'semantic: a folder with model.onnx and tokenizer.json of a sentence-embedding model (default: the built-in hashed n-gram model)')
    .option('-w, --workers <n>', 'worker threads (default: every core)', positiveInt)
    .option('--seed <n>', 'seed of the hash functions and projections', (v) => Number(v), 0)
    .option('--force', 'redo every task instead of resuming a finished or interrupted run', false)
    .option('-q, --quiet', 'no progress output', false)
    .action(async (inputs: string[], o: DedupCommandOptions) => {
      const methods = o.method ?? ['minhash'];
      const result = await runStages({
        inputs,
        output: o.output,
        stages: methods.map((m) => ({ stage: DEDUP_METHODS[m], ...(m === 'semantic' && o.model ? { options: { model: o.model } } : {}) })),
        ...(o.workers ? { workers: o.workers } : {}),
        seed: o.seed,
        force: o.force,
        quiet: o.quiet,
        origin: 'refinery dedup',
      });
      process.stdout.write(`\n${funnelMarkdown(result.stats)}\nOutputs in ${result.output}/: kept/, rejected/, errors/, stats.json, stats/, report.md\n`);
    });
}
