/**
 * CLI: refinery classify label | train | score.
 *   label  <inputs...> --endpoint URL --model NAME [--rubric R] [-n 5000] -o labels.jsonl
 *   train  <labels.jsonl> -o model/
 *   score  <inputs...> --model model/ -o <dir>   (the `quality` stage over the inputs)
 */
import type { Command } from 'commander';
import { finiteNumber, wholeNumber } from '../pipeline/cli-arguments.ts';
import { RefineryError } from '../pipeline/errors.ts';
import { runStages } from '../pipeline/run.ts';
import { printRunSummary } from '../pipeline/run-summary.ts';
import { labelDocuments, summaryPathFor } from './label/labeller.ts';
import { trainFromLabels } from './training-run.ts';

const int = wholeNumber;
const num = finiteNumber();

function numberList(value: string): number[] {
  return value.split(',').map((v) => num(v.trim()));
}

function thresholdArg(value: string): number | 'card' {
  return value === 'card' ? 'card' : num(value);
}

/** Keeps only the options the user gave, so that the zod defaults apply to the rest. */
function given<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

export function registerClassifyCommand(program: Command): void {
  const classify = program.command('classify').description('Quality and topic classifiers: label documents with an LLM, train a fast classifier, score a corpus with it.');

  classify
    .command('label')
    .description('Ask an LLM behind an OpenAI-compatible API to grade a seeded sample of documents by a rubric.')
    .argument('<inputs...>', 'input files (JSONL, Parquet, WARC/WET)')
    .requiredOption('--endpoint <url>', 'server base URL, e.g. http://127.0.0.1:8000 (vLLM, TGI, llama.cpp server, Ollama)')
    .requiredOption('--model <name>', 'model name the server serves, e.g. meta-llama/Llama-2-70b-chat-hf')
    .requiredOption('-o, --output <labels.jsonl>', 'labels file; lines are appended, ids already answered are skipped')
    .option('--rubric <file|name>', 'rubric file, or llama3-quality (binary) / fineweb-edu-additive (0–5)', 'llama3-quality')
    .option('-n, --n <count>', 'documents to label (default 5000)', int(1))
    .option('--seed <n>', 'sampling seed (default 0)', int(0))
    .option('--stratify-by <meta key>', 'equal shares per value of this field, e.g. source or language')
    .option('--max-doc-tokens <n>', 'cut documents to this many Llama 3 tokens (default 2048)', int(16))
    .option('--api <chat|completions>', 'chat: /v1/chat/completions; completions: /v1/completions with the Llama 2 chat template (default chat)')
    .option('--concurrency <n>', 'requests in flight (default 8)', int(1))
    .option('--rate <per second>', 'cap on request starts per second (default: none)', num)
    .option('--timeout-ms <ms>', 'per-request timeout (default 120000)', int(1))
    .option('--retries <n>', 'retries of a failed request, with exponential backoff (default 5)', int(0))
    .option('--max-tokens <n>', 'answer length cap (default 256)', int(1))
    .option('--api-key-env <VAR>', 'environment variable holding the API key', 'OPENAI_API_KEY')
    .action(async (inputs: string[], o: Record<string, string | number | undefined> & { apiKeyEnv: string; output: string }) => {
      const apiKey = process.env[o.apiKeyEnv];
      const summary = await labelDocuments(
        inputs,
        o.output,
        {
          endpoint: String(o.endpoint),
          model: String(o.model),
          ...given({
            rubric: o.rubric as string | undefined,
            n: o.n as number | undefined,
            seed: o.seed as number | undefined,
            stratify_by: o.stratifyBy as string | undefined,
            max_doc_tokens: o.maxDocTokens as number | undefined,
            api: o.api as 'chat' | 'completions' | undefined,
            concurrency: o.concurrency as number | undefined,
            rate: o.rate as number | undefined,
            timeout_ms: o.timeoutMs as number | undefined,
            retries: o.retries as number | undefined,
            max_tokens: o.maxTokens as number | undefined,
            api_key: apiKey,
          }),
        },
        (line) => process.stderr.write(`${line}\n`),
      );
      const counts = Object.entries(summary.label_counts)
        .map(([k, v]) => `${k === 'null' ? 'unparsable' : k}: ${v}`)
        .join(', ');
      process.stdout.write(
        `labelled ${summary.labelled_now} now (${summary.already_labelled} already in ${o.output}); ${summary.unparsable_now} unparsable, ${summary.failed} failed after retries\n` +
          `labels in the file: ${counts || 'none'}\n` +
          (summary.failures.length ? `first failures:\n  ${summary.failures.join('\n  ')}\n` : '') +
          `summary: ${summaryPathFor(o.output)}\n`,
      );
      if (summary.failed > 0) {
        const asked = summary.labelled_now + summary.failed;
        throw new RefineryError(
          summary.labelled_now === 0
            ? `no document could be labelled: all ${asked} requests failed after the retries (${summary.failures[0] ?? 'no message'})`
            : `${summary.failed} of ${asked} documents could not be labelled; run the same command again to ask for them`,
        );
      }
    });

  classify
    .command('train')
    .description('Train a fastText-style classifier on labels JSONL (id, text, label); write model.onnx, card.json, metrics.json.')
    .argument('<labels.jsonl>', 'labels: a class name or a number per line')
    .requiredOption('-o, --output <dir>', 'model folder')
    .option('--task <auto|binary|multiclass|regression>', 'default auto: numbers other than 0/1 → regression')
    .option('--positive-label <name>', 'binary: the class whose probability is the score')
    .option('--epochs <n>', 'default 5 (DCLM); small label sets want 20–50', int(1))
    .option('--lr <rate>', 'default 0.1 (DCLM)', num)
    .option('--dim <n>', 'embedding size (default 32)', int(1))
    .option('--hidden <n>', 'hidden ReLU units, 0 = linear (default 0)', int(0))
    .option('--word-ngrams <n>', 'word n-grams up to n (default 2)', int(1))
    .option('--minn <n>', 'shortest char n-gram, 0 = none (default 0; try 3)', int(0))
    .option('--maxn <n>', 'longest char n-gram (default 0; try 5)', int(0))
    .option('--buckets <n>', 'hash buckets (default 262144)', int(16))
    .option('--test-fraction <f>', 'held out for metrics (default 0.2)', num)
    .option('--valid-fraction <f>', 'held out for the threshold (default 0.1)', num)
    .option('--regression-threshold <x>', 'regression: the cut reported as binary F1 (default 3)', num)
    .option('--seed <n>', 'split and initialisation seed (default 0)', int(0))
    .action(async (labels: string, o: Record<string, string | number | undefined> & { output: string }) => {
      const result = await trainFromLabels(
        labels,
        o.output,
        given({
          task: o.task as 'auto' | 'binary' | 'multiclass' | 'regression' | undefined,
          positive_label: o.positiveLabel as string | undefined,
          epochs: o.epochs as number | undefined,
          lr: o.lr as number | undefined,
          dim: o.dim as number | undefined,
          hidden: o.hidden as number | undefined,
          word_ngrams: o.wordNgrams as number | undefined,
          minn: o.minn as number | undefined,
          maxn: o.maxn as number | undefined,
          buckets: o.buckets as number | undefined,
          test_fraction: o.testFraction as number | undefined,
          valid_fraction: o.validFraction as number | undefined,
          regression_threshold: o.regressionThreshold as number | undefined,
          seed: o.seed as number | undefined,
        }),
      );
      process.stdout.write(`${result.summary.join('\n')}\nmodel in ${o.output}/: model.onnx, card.json, metrics.json\n`);
    });

  classify
    .command('score')
    .description('Score documents with a model folder (the `quality` stage): meta.quality and meta.quality_band, or meta.category for a topic model.')
    .argument('<inputs...>', 'input files (JSONL, Parquet, WARC/WET)')
    .requiredOption('--model <dir>', 'model folder (card.json + ONNX file)')
    .requiredOption('-o, --output <dir>', 'output folder: kept/, rejected/, errors/, stats.json, report.md')
    .option('--field <name>', 'meta key to write (default quality; category for a topic model)')
    .option('--threshold <x|card>', 'drop documents scoring below x ("card": the trained threshold); default: annotate only', thresholdArg)
    .option('--keep-labels <a,b>', 'multi-class: keep only these classes', (v: string) => v.split(',').map((s) => s.trim()))
    .option('--band-cuts <a,b>', 'ascending band cut points (default [t/2, t] for probabilities, [t-1, t] for scores)', numberList)
    .option('--band-names <a,b,c>', 'band names (default low,mid,high)', (v: string) => v.split(',').map((s) => s.trim()))
    .option('--batch-size <n>', 'documents per ONNX Runtime call (default 256)', int(1))
    .option('-w, --workers <n>', 'worker threads (default: every core)', int(1))
    .option('--force', 'redo every task instead of resuming', false)
    .option('-q, --quiet', 'no progress output', false)
    .action(async (inputs: string[], o: Record<string, unknown> & { model: string; output: string; force: boolean; quiet: boolean }) => {
      const options = given({
        model: o.model,
        field: o.field,
        threshold: o.threshold,
        keep_labels: o.keepLabels,
        band_cuts: o.bandCuts,
        band_names: o.bandNames,
        batch_size: o.batchSize,
      });
      const result = await runStages({
        inputs,
        output: o.output,
        stages: [{ stage: 'quality', options }],
        ...(typeof o.workers === 'number' ? { workers: o.workers } : {}),
        force: o.force,
        quiet: o.quiet,
        origin: 'refinery classify score',
      });
      printRunSummary(result);
    });
}
