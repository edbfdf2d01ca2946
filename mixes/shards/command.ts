/**
 * CLI: refinery tokenize <inputs...> -o <dir> [--seq-len N] [--shard-size BYTES] [--shuffle-seed N]
 * [--plan plan.json] [--seed N] [--workers N] [--force]. Runs the `tokenize` stage over the inputs.
 */
import { wholeNumber } from '../../pipeline/cli-arguments.ts';
import { InvalidArgumentError, type Command } from 'commander';
import { join } from 'node:path';
import { runStages } from '../../pipeline/run.ts';
import { funnelMarkdown } from '../../pipeline/stats.ts';
import { MANIFEST_FILE, TOKENS_DIR } from './tokenize-stage.ts';


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

interface TokenizeFlags {
  output: string;
  seqLen?: number;
  shardSize?: number;
  shuffleSeed?: number;
  plan?: string;
  seed: number;
  workers?: number;
  force: boolean;
  quiet: boolean;
}

export function registerTokenizeCommand(program: Command): void {
  program
    .command('tokenize')
    .description('Tokenize documents with the Llama 3 tokenizer into Parquet shards (tokens/*.parquet + tokens/manifest.json).')
    .argument('<inputs...>', 'input files, folders or globs (JSONL, Parquet, WARC/WET)')
    .requiredOption('-o, --output <dir>', 'output folder: tokens/, kept/ (documents with meta.num_tokens), stats.json, report.md')
    .option('--seq-len <n>', 'pack documents into rows of exactly n tokens (Llama 3: 8192); default one row per document', wholeNumber(2))
    .option('--shard-size <bytes>', 'target file size: a new file starts once a file reaches it (default 1GB)', parseByteSize)
    .option('--shuffle-seed <n>', 'shuffle documents across all shards with this seed (default: keep input order)', wholeNumber(0))
    .option('--plan <plan.json>', 'apply a mix plan: repeat or sample each document by its bucket rate')
    .option('--seed <n>', 'seed of the plan sampler', wholeNumber(0), 0)
    .option('-w, --workers <n>', 'worker threads (default: every core)', wholeNumber(1))
    .option('--force', 'redo every task instead of resuming a finished or interrupted run', false)
    .option('-q, --quiet', 'no progress output', false)
    .action(async (inputs: string[], o: TokenizeFlags) => {
      const options: Record<string, unknown> = {};
      if (o.seqLen !== undefined) options.seq_len = o.seqLen;
      if (o.shardSize !== undefined) options.shard_size = o.shardSize;
      if (o.shuffleSeed !== undefined) options.shuffle_seed = o.shuffleSeed;
      if (o.plan !== undefined) options.plan = o.plan;
      const result = await runStages({
        inputs,
        output: o.output,
        stages: [{ stage: 'tokenize', options }],
        ...(o.workers ? { workers: o.workers } : {}),
        seed: o.seed,
        force: o.force,
        quiet: o.quiet,
        origin: 'refinery tokenize',
      });
      process.stdout.write(`\n${funnelMarkdown(result.stats)}\nShards and manifest in ${join(result.output, TOKENS_DIR)}/ (${MANIFEST_FILE})\n`);
    });
}
