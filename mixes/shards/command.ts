/**
 * CLI: refinery tokenize <inputs...> -o <dir> [--seq-len N] [--shard-size BYTES] [--shuffle-seed N]
 * [--plan plan.json] [--tokenizer llama3|tokenizer.json] [--seed N] [--workers N] [--force]. Runs the `tokenize` stage over the inputs;
 * its option flags come from the stage's schema (tokenizeOptions).
 */
import { addTrialFlags, trialOverrides, wholeNumber, type TrialFlags } from '../../pipeline/cli/arguments.ts';
import { InvalidArgumentError, type Command } from 'commander';
import { join } from 'node:path';
import { stagesConfig } from '../../pipeline/engine/run.ts';
import { outputPath, runFromCommand, type RunFinishedHook } from '../../pipeline/cli/run-summary.ts';
import { funnelMarkdown } from '../../pipeline/stats.ts';
import { addSchemaFlags, schemaFlagValues } from '../../pipeline/cli/option-flags.ts';
import { TOKENS_DIR, tokenizeOptions } from './tokenize-options.ts';
import { MANIFEST_FILE } from './manifest-names.ts';

const UNITS: Record<string, number> = { '': 1, k: 1e3, kb: 1e3, m: 1e6, mb: 1e6, g: 1e9, gb: 1e9, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30 };

/** `1000000000`, `1GB`, `512MiB`, `1.5g`. */
export function parseByteSize(value: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = m ? UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) throw new InvalidArgumentError(`expected a size in bytes such as 1000000000, 1GB or 512MiB, got "${value}"`);
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes < 1) throw new InvalidArgumentError('expected a size of at least 1 byte');
  return bytes;
}

interface TokenizeFlags extends TrialFlags {
  output: string;
  seed: number;
  workers?: number;
  force: boolean;
  quiet: boolean;
  report: boolean;
}

/** `onRunFinished`: what runs after tokenizing (the composition root's report), unless --no-report. */
export function registerTokenizeCommand(program: Command, onRunFinished?: RunFinishedHook): void {
  const tokenize = program
    .command('tokenize')
    .description('Tokenize documents with the Llama 3 tokenizer (or a tokenizer.json: --tokenizer) into Parquet shards (tokens/*.parquet + tokens/_manifest.json).')
    .argument('<inputs...>', 'input files, folders or globs (JSONL, Parquet, WARC/WET)')
    .requiredOption('-o, --output <dir>', 'output folder or s3://bucket/prefix: tokens/, kept/ (documents with meta.num_tokens), stats.json, report.md, report/');
  addSchemaFlags(tokenize, {
    schema: tokenizeOptions,
    flags: { shard_size: '--shard-size <bytes>', row_group_size: '--row-group-size <bytes>', plan: '--plan <plan.json>' },
    parsers: { shard_size: parseByteSize, row_group_size: parseByteSize },
  });
  addTrialFlags(tokenize)
    .option('--seed <n>', 'seed of the plan sampler', wholeNumber(0), 0)
    .option('-w, --workers <n>', 'worker threads (default: every core)', wholeNumber(1))
    .option('--force', 'redo every task instead of resuming a finished or interrupted run', false)
    .option('-q, --quiet', 'no progress output', false)
    .option('--no-report', 'skip the researcher report (report/report.html, .md, .json)')
    .action(async (inputs: string[], o: TokenizeFlags, cmd: Command) => {
      const config = await stagesConfig({
        inputs,
        output: o.output,
        stages: [{ stage: 'tokenize', options: schemaFlagValues(cmd, tokenizeOptions) }],
        ...(o.workers ? { workers: o.workers } : {}),
        seed: o.seed,
        ...trialOverrides(o),
        origin: 'refinery tokenize',
      });
      await runFromCommand(config, o, onRunFinished, (result, report) => {
        process.stdout.write(`\n${funnelMarkdown(result.stats)}\nShards and manifest in ${outputPath(result, TOKENS_DIR)}/ (${MANIFEST_FILE})${report ? `\nReport for researchers: ${join(result.output, 'report', 'report.html')} (and report.md, report.json)` : ''}\n`);
      });
    });
}
