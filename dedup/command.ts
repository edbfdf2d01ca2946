/**
 * CLI: refinery dedup <inputs...> -o <dir> --method exact|url|minhash|lines|semantic [--method ...],
 * and refinery dedup-model <inputs...> -o <dir> (trains the plug-in embedding model). `--model` is
 * semantic-dedup's option of that name (its type and help come from the stage's schema); every other
 * option of the dedup stages is set in pipeline YAML.
 */
import { Command, InvalidArgumentError } from 'commander';
import { addTrialFlags, positiveInt, trialOverrides, wholeNumber, type TrialFlags } from '../pipeline/cli/arguments.ts';
import { stagesConfig } from '../pipeline/engine/run.ts';
import { runFromCommand, type RunFinishedHook } from '../pipeline/cli/run-summary.ts';
import { prepareConfig } from '../pipeline/config.ts';
import { expandInputs } from '../pipeline/engine/run-plan.ts';
import { readDocs } from '../pipeline/io/read.ts';
import { addSchemaFlags, schemaFlagValues } from '../pipeline/cli/option-flags.ts';
import { exportSubwordEmbeddingModel } from './semantic/subword-model-export.ts';
import { semanticDedupOptions } from './semantic-dedup.ts';

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

interface DedupCommandOptions extends TrialFlags {
  output: string;
  method?: string[];
  workers?: number;
  seed: number;
  force: boolean;
  quiet: boolean;
  report: boolean;
}

/** `onRunFinished`: what runs after deduplication (the composition root's report), unless --no-report. */
export function registerDedupCommand(program: Command, onRunFinished?: RunFinishedHook): void {
  const dedup = program
    .command('dedup')
    .description('Remove duplicates: exact, URL (most recent kept), MinHash near-duplicates, repeated lines, semantic (embeddings). Methods run in the order given.')
    .argument('<inputs...>', 'input files, folders or globs (JSONL, Parquet, WARC/WET)')
    .requiredOption('-o, --output <dir>', 'output folder or s3://bucket/prefix: kept/, rejected/ (with meta.duplicate_of), errors/, stats.json, stats/<method>.json, report.md, report/')
    .option('-m, --method <name>', `method, repeatable or comma-separated: ${Object.keys(DEDUP_METHODS).join(', ')} (default: minhash)`, collectMethods);
  addSchemaFlags(dedup, { schema: semanticDedupOptions, only: ['model'], flags: { model: '--model <dir>' }, context: '(-m semantic)' });
  addTrialFlags(dedup)
    .option('-w, --workers <n>', 'worker threads (default: every core)', positiveInt)
    .option('--seed <n>', 'seed of the hash functions and projections', wholeNumber(0), 0)
    .option('--force', 'redo every task instead of resuming a finished or interrupted run', false)
    .option('-q, --quiet', 'no progress output', false)
    .option('--no-report', 'skip the researcher report (report/report.html, .md, .json)')
    .action(async (inputs: string[], o: DedupCommandOptions, cmd: Command) => {
      const methods = o.method ?? ['minhash'];
      const semantic = schemaFlagValues(cmd, semanticDedupOptions);
      const config = await stagesConfig({
        inputs,
        output: o.output,
        stages: methods.map((m) => ({ stage: DEDUP_METHODS[m]!, ...(m === 'semantic' && Object.keys(semantic).length > 0 ? { options: semantic } : {}) })),
        ...(o.workers ? { workers: o.workers } : {}),
        seed: o.seed,
        ...trialOverrides(o),
        origin: 'refinery dedup',
      });
      await runFromCommand(config, o, onRunFinished);
    });
  registerDedupModelCommand(program);
}

/** Texts of the inputs' documents, at most `limit`, in input order. */
async function* inputTexts(inputs: string[], limit: number): AsyncGenerator<string> {
  const config = await prepareConfig({ inputs, output: '.', stages: [] }, { file: 'refinery dedup-model', baseDir: process.cwd() });
  let n = 0;
  for (const { file } of await expandInputs(config)) {
    for await (const item of readDocs(file, config.reader)) {
      if (item.kind !== 'doc') continue;
      if (n++ >= limit) return;
      yield item.doc.text;
    }
  }
}

function registerDedupModelCommand(program: Command): void {
  program
    .command('dedup-model')
    .description('Train the project\'s subword embedding model on a corpus and write model.onnx + tokenizer.json, for `refinery dedup -m semantic --model <dir>`.')
    .argument('<inputs...>', 'input files, folders or globs')
    .requiredOption('-o, --output <dir>', 'folder for model.onnx and tokenizer.json')
    .option('--vocab-size <n>', 'WordPiece vocabulary size', positiveInt, 30000)
    .option('--dim <n>', 'embedding dimension', positiveInt, 256)
    .option('--max-docs <n>', 'documents read for the vocabulary and IDF', positiveInt, 1_000_000)
    .option('--seed <n>', 'seed of the token vectors', wholeNumber(0), 0)
    .action(async (inputs: string[], o: { output: string; vocabSize: number; dim: number; maxDocs: number; seed: number }) => {
      const r = await exportSubwordEmbeddingModel(inputTexts(inputs, o.maxDocs), o.output, { vocabSize: o.vocabSize, dim: o.dim, seed: o.seed });
      process.stdout.write(`Wrote ${o.output}/model.onnx and tokenizer.json: ${r.vocabulary} tokens, ${o.dim} dimensions, from ${r.documents} documents.\n`);
    });
}
