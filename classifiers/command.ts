/**
 * CLI: refinery classify label | train | score.
 *   label  <inputs...> --endpoint URL --model NAME [--rubric R] [-n 5000] -o labels.jsonl
 *   train  <labels.jsonl> -o model/
 *   score  <inputs...> --model model/ -o <dir>   (the `quality` stage over the inputs)
 * Each subcommand's option flags come from the schema of what it runs (LabelRunOptions,
 * TrainRunOptions, the quality stage's options): types, defaults and help text are written there.
 */
import type { Command } from 'commander';
import { positiveInt } from '../pipeline/cli/arguments.ts';
import { RefineryError } from '../pipeline/errors.ts';
import { addSchemaFlags, schemaFlagValues } from '../pipeline/cli/option-flags.ts';
import { runStages } from '../pipeline/engine/run.ts';
import { printRunSummary } from '../pipeline/cli/run-summary.ts';
import { labelDocuments, LabelRunOptions, summaryPathFor, type LabelSummary } from './label/labeller.ts';
import { trainFromLabels, TrainRunOptions } from './training-run.ts';
import { qualityOptions } from './quality-stage.ts';

export function registerClassifyCommand(program: Command): void {
  const classify = program.command('classify').description('Quality and topic classifiers: label documents with an LLM, train a fast classifier, score a corpus with it.');
  registerLabelCommand(classify);
  registerTrainCommand(classify);
  registerScoreCommand(classify);
}

function registerLabelCommand(classify: Command): void {
  const label = classify
    .command('label')
    .description('Ask an LLM behind an OpenAI-compatible API (vLLM, TGI, llama.cpp server, Ollama) to grade a seeded sample of documents by a rubric.')
    .argument('<inputs...>', 'input files (JSONL, Parquet, WARC/WET)')
    .requiredOption('-o, --output <labels.jsonl>', 'labels file; lines are appended, ids already answered are skipped');
  addSchemaFlags(label, {
    schema: LabelRunOptions,
    omit: ['api_key'],
    flags: {
      endpoint: '--endpoint <url>',
      model: '--model <name>',
      rubric: '--rubric <file|name>',
      n: '-n, --n <count>',
      stratify_by: '--stratify-by <meta key>',
      rate: '--rate <per second>',
      timeout_ms: '--timeout-ms <ms>',
      backoff_ms: '--backoff-ms <ms>',
      select: '--select <random|uncertain>',
      select_model: '--select-model <dir|file.bin>',
      pool_factor: '--pool-factor <k>',
    },
  });
  label
    .option('--api-key-env <VAR>', 'environment variable holding the API key', 'OPENAI_API_KEY')
    .action(async (inputs: string[], o: { output: string; apiKeyEnv: string }, cmd: Command) => {
      const apiKey = process.env[o.apiKeyEnv];
      const options = schemaFlagValues(cmd, LabelRunOptions, apiKey === undefined ? {} : { api_key: apiKey });
      const summary = await labelDocuments(inputs, o.output, options as Parameters<typeof labelDocuments>[2], (line) => process.stderr.write(`${line}\n`));
      process.stdout.write(labelReport(summary, o.output));
      checkLabelFailures(summary);
    });
}

function labelReport(summary: LabelSummary, output: string): string {
  const counts = Object.entries(summary.label_counts)
    .map(([k, v]) => `${k === 'null' ? 'unparsable' : k}: ${v}`)
    .join(', ');
  return (
    `labelled ${summary.labelled_now} now (${summary.already_labelled} already in ${output}); ${summary.unparsable_now} unparsable, ${summary.failed} failed after retries\n` +
    `labels in the file: ${counts || 'none'}\n` +
    (summary.failures.length ? `first failures:\n  ${summary.failures.join('\n  ')}\n` : '') +
    `summary: ${summaryPathFor(output)}\n`
  );
}

/** A run with failed requests exits non-zero, after the report, so that scripts notice. */
function checkLabelFailures(summary: LabelSummary): void {
  if (summary.failed === 0) return;
  const asked = summary.labelled_now + summary.failed;
  throw new RefineryError(
    summary.labelled_now === 0
      ? `no document could be labelled: all ${asked} requests failed after the retries (${summary.failures[0] ?? 'no message'})`
      : `${summary.failed} of ${asked} documents could not be labelled; run the same command again to ask for them`,
  );
}

function registerTrainCommand(classify: Command): void {
  const train = classify
    .command('train')
    .description('Train a fastText-style classifier on labels JSONL (id, text, label); write model.onnx, card.json, metrics.json.')
    .argument('<labels.jsonl>', 'labels: a class name or a number per line')
    .requiredOption('-o, --output <dir>', 'model folder');
  addSchemaFlags(train, {
    schema: TrainRunOptions,
    flags: { task: '--task <kind>', positive_label: '--positive-label <name>', lr: '--lr <rate>', label_field: '--label-field <name>', text_field: '--text-field <name>' },
  });
  train.action(async (labels: string, o: { output: string }, cmd: Command) => {
    const result = await trainFromLabels(labels, o.output, schemaFlagValues(cmd, TrainRunOptions) as Partial<TrainRunOptions>);
    process.stdout.write(`${result.summary.join('\n')}\nmodel in ${o.output}/: model.onnx, card.json, metrics.json\n`);
    for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
  });
}

function registerScoreCommand(classify: Command): void {
  const score = classify
    .command('score')
    .description('Score documents with a model folder (the `quality` stage): meta.quality and meta.quality_band, or meta.category for a topic model.')
    .argument('<inputs...>', 'input files (JSONL, Parquet, WARC/WET)')
    .requiredOption('-o, --output <dir>', 'output folder or s3://bucket/prefix: kept/, rejected/, errors/, stats.json, report.md');
  addSchemaFlags(score, {
    schema: qualityOptions,
    flags: { model: '--model <dir|file.bin>', positive_label: '--positive-label <label>', threshold: '--threshold <x|card>', keep_labels: '--keep-labels <a,b>', band_cuts: '--band-cuts <a,b>', band_names: '--band-names <a,b,c>' },
  });
  score
    .option('-w, --workers <n>', 'worker threads (default: every core)', positiveInt)
    .option('--force', 'redo every task instead of resuming', false)
    .option('-q, --quiet', 'no progress output', false)
    .action(async (inputs: string[], o: { output: string; workers?: number; force: boolean; quiet: boolean }, cmd: Command) => {
      const result = await runStages({
        inputs,
        output: o.output,
        stages: [{ stage: 'quality', options: schemaFlagValues(cmd, qualityOptions) }],
        ...(o.workers !== undefined ? { workers: o.workers } : {}),
        force: o.force,
        quiet: o.quiet,
        origin: 'refinery classify score',
      });
      printRunSummary(result);
    });
}
