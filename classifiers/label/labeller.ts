/**
 * `refinery classify label`: sample documents, cut each to a token budget, ask an LLM to grade
 * it by a rubric, and append `{id, text, label, raw, ...}` lines to a labels JSONL file, in
 * sample order whatever the concurrency (same inputs + seed give the same file). Resumable:
 * ids that already have an answer in the file are skipped. Unparsable answers are written with
 * `label: null` and counted; requests that fail after every retry are counted, reported and
 * left out, so the next run asks again. The API key and URL credentials are redacted from every
 * log line, message and file (`secrets.ts`).
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { z } from 'zod';
import type { Doc } from '../../pipeline/doc.ts';
import { readDocs } from '../../pipeline/io/read.ts';
import { stableJson, writeFileAtomic } from '../../pipeline/io/atomic.ts';
import { ConfigError, errorMessage } from '../../pipeline/errors.ts';
import { sharedLlama3Tokenizer } from '../../pipeline/tokenizer/llama3-tokenizer.ts';
import { LlmClient, LlmClientOptions } from './openai-client.ts';
import { loadRubric, parseAnswer, renderPrompt } from './rubric.ts';
import { DocSampler } from './sample.ts';
import { certainty, leastCertain } from './uncertain.ts';
import { openScorer } from '../scorer.ts';

export const LabelRunOptions = LlmClientOptions.extend({
  rubric: z.string().default('llama3-quality').describe('A rubric file, or a shipped one by name: llama3-quality (binary), fineweb-edu-additive (0–5), llama3-code, llama3-math (binary), code-edu-additive, math-additive (0–5).'),
  n: z.number().int().min(1).default(5000).describe('Documents to label (FineWeb-Edu labelled 460k; a few thousand train a usable fastText model).'),
  seed: z.number().int().default(0).describe('Sampling seed.'),
  stratify_by: z.string().optional().describe('meta key to stratify the sample by (e.g. "source", "language"); unset = simple random sample.'),
  max_doc_tokens: z.number().int().min(16).default(2048).describe("Document tokens shown to the LLM (Llama 3 tokenizer); longer documents are cut. Llama 2's context is 4,096."),
  concurrency: z.number().int().min(1).max(1024).default(8).describe('Requests in flight at once.'),
  select: z.enum(['random', 'uncertain']).default('random').describe('random: a seeded sample; uncertain: of a seeded pool of pool_factor × n, the documents the current model (select_model) is least sure of, stratified alike.'),
  select_model: z.string().optional().describe('--select uncertain: the current model (a model folder or a fastText file).'),
  pool_factor: z.number().int().min(1).max(1000).default(10).describe('--select uncertain: candidates scored per document labelled.'),
});
export type LabelRunOptions = z.infer<typeof LabelRunOptions>;

export interface LabelSummary {
  rubric: string;
  model: string;
  /** Documents read from the inputs, per stratum. */
  seen: Record<string, number>;
  read_errors: number;
  sampled: number;
  already_labelled: number;
  labelled_now: number;
  unparsable_now: number;
  failed: number;
  /** First failure messages (at most 5). */
  failures: string[];
  /** Over the whole labels file: label → count ("null" = unparsable). */
  label_counts: Record<string, number>;
  requests: number;
}

export interface LabelRecord {
  id: string;
  text: string;
  label: number | null;
  raw: string;
  rubric: string;
  model: string;
  truncated: boolean;
  source?: unknown;
}

export function summaryPathFor(output: string): string {
  return `${output.replace(/\.jsonl$/, '')}.summary.json`;
}

async function existingLabels(output: string): Promise<LabelRecord[]> {
  let text: string;
  try {
    text = await readFile(output, 'utf8');
  } catch {
    return [];
  }
  const out: LabelRecord[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as LabelRecord;
      if (typeof r.id === 'string' && typeof r.raw === 'string') out.push(r);
    } catch {
      // a line cut by a kill: its document is asked again
    }
  }
  return out;
}

/** The n documents of the pool that the current model is least sure of (uncertain.ts). */
async function uncertainSample(pool: Doc[], model: string, options: LabelRunOptions): Promise<Doc[]> {
  const scorer = await openScorer(model);
  try {
    return leastCertain(pool, await certainty(scorer, pool.map((d) => d.text)), options.n, options.stratify_by);
  } finally {
    await scorer.close();
  }
}

/** Cuts `text` to at most `budget` Llama 3 tokens. */
function cutToTokens(text: string, budget: number): { text: string; truncated: boolean } {
  const ids = sharedLlama3Tokenizer().encode(text);
  if (ids.length <= budget) return { text, truncated: false };
  return { text: sharedLlama3Tokenizer().decode(ids.subarray(0, budget)).replace(/\uFFFD+$/, ''), truncated: true };
}

export async function labelDocuments(
  inputs: readonly string[],
  output: string,
  opts: Partial<LabelRunOptions> & Pick<LabelRunOptions, 'endpoint' | 'model'>,
  log: (line: string) => void = () => {},
): Promise<LabelSummary> {
  const parsed = LabelRunOptions.safeParse(opts);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new ConfigError('refinery classify label', issue.path.join('.'), issue.message);
  }
  const options = parsed.data;
  if (!output.endsWith('.jsonl')) throw new ConfigError('command line', 'output', `labels are appended as they arrive, so the file must be plain .jsonl: ${output}`);
  const rubric = await loadRubric(options.rubric);
  const client = new LlmClient(options);
  const redact = (text: string) => client.redactor.redact(text);
  const say = (line: string) => log(redact(line));
  const previous = await existingLabels(output);
  const done = new Set(previous.map((r) => r.id));

  if (options.select === 'uncertain' && options.select_model === undefined) throw new ConfigError('refinery classify label', 'select_model', '--select uncertain needs the current model (--select-model <dir or .bin>)');

  // Text beyond ~8 characters per token cannot fit the budget: cut it before it is kept.
  const charCap = options.max_doc_tokens * 8;
  const wanted = options.select === 'uncertain' ? options.n * options.pool_factor : options.n;
  const sampler = new DocSampler(wanted, options.seed, options.stratify_by, (d: Doc) =>
    d.text.length > charCap ? { ...d, text: d.text.slice(0, charCap) } : d,
  );
  let readErrors = 0;
  for (const input of inputs) {
    for await (const item of readDocs(input)) {
      if (item.kind === 'doc') sampler.offer(item.doc);
      else readErrors++;
    }
  }
  const model = options.select === 'uncertain' ? options.select_model : undefined;
  const sample = model === undefined ? sampler.result() : await uncertainSample(sampler.result().filter((d) => !done.has(d.id)), model, options);
  const todo = sample.filter((d) => !done.has(d.id));
  say(`sampled ${sample.length} documents; ${sample.length - todo.length} already labelled, ${todo.length} to ask ${options.model} (${rubric.name})`);

  await mkdir(dirname(output), { recursive: true });
  const out: WriteStream = createWriteStream(output, { flags: 'a' });
  const results = new Array<LabelRecord | null | undefined>(todo.length);
  let flushed = 0;
  let labelled = 0;
  let unparsable = 0;
  const failures: string[] = [];
  let failed = 0;
  const flush = () => {
    while (flushed < todo.length && results[flushed] !== undefined) {
      const r = results[flushed];
      if (r) out.write(JSON.stringify(r) + '\n');
      results[flushed] = null; // release the text
      flushed++;
    }
  };

  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const i = next++;
      const doc = todo[i]!;
      const cut = cutToTokens(doc.text, options.max_doc_tokens);
      try {
        const raw = await client.complete(rubric.system, renderPrompt(rubric, cut.text));
        const label = parseAnswer(rubric, raw);
        if (label === null) unparsable++;
        labelled++;
        const record: LabelRecord = { id: doc.id, text: redact(cut.text), label, raw: redact(raw), rubric: rubric.name, model: options.model, truncated: cut.truncated };
        if (doc.meta.source !== undefined) record.source = doc.meta.source;
        results[i] = record;
      } catch (e) {
        failed++;
        if (failures.length < 5) failures.push(redact(`${doc.id}: ${errorMessage(e)}`));
        results[i] = null;
      }
      flush();
      if ((labelled + failed) % 100 === 0) say(`  ${labelled + failed}/${todo.length} answered (${unparsable} unparsable, ${failed} failed)`);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(options.concurrency, Math.max(1, todo.length)) }, worker));
  } finally {
    flush();
    await new Promise<void>((res, rej) => out.end((err?: Error | null) => (err ? rej(err) : res())));
  }

  const labelCounts: Record<string, number> = {};
  for (const r of await existingLabels(output)) labelCounts[String(r.label)] = (labelCounts[String(r.label)] ?? 0) + 1;
  const summary: LabelSummary = {
    rubric: rubric.name,
    model: options.model,
    seen: sampler.counts(),
    read_errors: readErrors,
    sampled: sample.length,
    already_labelled: sample.length - todo.length,
    labelled_now: labelled,
    unparsable_now: unparsable,
    failed,
    failures,
    label_counts: labelCounts,
    requests: client.attempts,
  };
  await writeFileAtomic(summaryPathFor(output), stableJson(summary));
  return summary;
}
