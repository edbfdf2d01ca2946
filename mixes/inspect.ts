/**
 * `refinery inspect <run>`: the documents of a finished run (kept/, rejected/, errors/), a folder
 * or an s3:// prefix,
 * with what the rule that dropped them measured, filtered by reason, stage, source, language,
 * bucket or dedup cluster; a seeded sample, not the first N, so that a look at 5 documents of a
 * rule with 50,000 is fair. An unfinished run, or a shard cut short, is read as far as it goes,
 * with a warning saying what is missing.
 */
import type { Command } from 'commander';
import { join } from 'node:path';
import { RefineryError } from '../pipeline/errors.ts';
import { positiveInt, wholeNumber } from '../pipeline/cli/arguments.ts';
import { SeededRandom } from '../pipeline/seeded-random.ts';
import { bucketId, bucketKeyOf } from './bucket.ts';
import { exitStage, runRecords, type Outcome, type RunRecord, type UnreadShard } from './run-records.ts';
import { withRun, type OpenedRun } from '../pipeline/run-folder/open-run.ts';
import { measurementOf, readStageOptions, type StageOptions } from './report/measures.ts';

export interface InspectFilter {
  /** `stage:rule`, as in meta.reject_reason. */
  reason?: string;
  /** Documents that this stage rejected or failed on. */
  stage?: string;
  source?: string;
  language?: string;
  /** A bucket id, `source/category/language/quality_band` (mixes/bucket.ts). */
  bucket?: string;
  /** A dedup cluster id as written to meta.dedup_cluster, e.g. `minhash-dedup/3`. */
  cluster?: string;
  /** One document: this id, or this meta.url (its fate, wherever the run put it). */
  id?: string;
  url?: string;
  /** Which folders to read; default all three. */
  outcomes?: Outcome[];
}

export interface InspectedDoc {
  outcome: Outcome;
  file: string;
  id: string;
  reason?: string;
  stage?: string;
  error?: string;
  /** The rule's measurement (meta path), its value and threshold, where the stage records them. */
  field?: string;
  value?: number;
  threshold?: number;
  drops?: 'above' | 'below';
  /** The override whose options judged the document (`language: de`), when one did. */
  when?: string;
  text: string;
  meta: Record<string, unknown>;
}

function matches(r: RunRecord, f: InspectFilter): boolean {
  const m = r.meta;
  if (f.id !== undefined && r.id !== f.id) return false;
  if (f.url !== undefined && m.url !== f.url) return false;
  if (f.reason !== undefined && m.reject_reason !== f.reason) return false;
  if (f.stage !== undefined && exitStage(r) !== f.stage) return false;
  if (f.source !== undefined && m.source !== f.source) return false;
  if (f.language !== undefined && m.language !== f.language) return false;
  if (f.bucket !== undefined && bucketId(bucketKeyOf(m)) !== f.bucket) return false;
  return true;
}

function inspected(r: RunRecord, options: StageOptions): InspectedDoc {
  const reason = typeof r.meta.reject_reason === 'string' ? r.meta.reject_reason : undefined;
  const stage = exitStage(r);
  return {
    outcome: r.outcome,
    file: r.file,
    id: r.id,
    ...(reason !== undefined ? { reason } : {}),
    ...(stage !== undefined ? { stage } : {}),
    ...(r.error !== undefined ? { error: r.error } : {}),
    ...(reason !== undefined ? measurementOf(reason, r.meta, options) : {}),
    text: r.text,
    meta: r.meta,
  };
}

/** `n` items drawn uniformly from a stream (reservoir sampling, seeded), returned in stream order. */
export class SeededReservoir<T> {
  private readonly random: SeededRandom;
  private readonly items: { seq: number; item: T }[] = [];
  private seen = 0;
  constructor(private readonly n: number, seed: number) {
    this.random = new SeededRandom(seed);
  }
  add(item: T): void {
    const seq = this.seen++;
    if (this.items.length < this.n) this.items.push({ seq, item });
    else {
      const j = this.random.int(seq + 1);
      if (j < this.n) this.items[j] = { seq, item };
    }
  }
  get count(): number {
    return this.seen;
  }
  values(): T[] {
    return [...this.items].sort((a, b) => a.seq - b.seq).map((x) => x.item);
  }
}

/** What a look at a run found besides its documents: it is unfinished, or shards could not be read. */
export type InspectWarnings = string[];

/** A run (folder or prefix), or a RefineryError; the warning says when the run has not finished. */
async function checkRunFolder(run: OpenedRun): Promise<string | null> {
  const runDir = run.location;
  const top = await run.files.list(run.dir);
  if (top.length === 0) throw new RefineryError(run.onBucket ? `${runDir}: no objects under this prefix; pass the s3:// prefix of a run` : `${runDir}: no such folder; pass the output folder of a run`);
  const found = ['kept', 'rejected', 'errors'].map((d) => top.includes(d));
  // A run writes stats.json last: a run record without it is a run still going, or stopped.
  const [record, stats] = ['run.json', 'stats.json'].map((f) => top.includes(f));
  if (!found.some(Boolean)) {
    if (record && !stats) throw new RefineryError(`${runDir}: an unfinished run that has written no documents yet (run.json, but no kept/, rejected/ or errors/): nothing to inspect; run it again to finish it`);
    throw new RefineryError(`${runDir}: no kept/, rejected/ or errors/ folder, so not the output folder of a run`);
  }
  return record && !stats
    ? `${runDir} is an unfinished run (no stats.json): only the documents of its finished tasks are here; run it again to finish it`
    : null;
}

/** Collects the shards a walk could not read to their end, one warning per file. */
function unreadShards(run: OpenedRun): { onUnread: (s: UnreadShard) => void; warnings: () => InspectWarnings } {
  const byFile = new Map<string, UnreadShard>();
  return {
    onUnread: (s) => void byFile.set(s.file, s),
    warnings: () =>
      [...byFile.values()].map((s) => `${run.where(join(run.dir, s.file))}: ${s.problem}; ${s.records ? `its first ${s.records} records are included, the rest are not` : 'none of its records are included'}`),
  };
}

/**
 * The documents of a run that pass `filter`: a seeded sample of `n` (in the order the run wrote
 * them), and how many matched. A cluster is shown whole: the document dedup kept, then the
 * duplicates it removed. A run that has not finished, or a shard that cannot be read to its end,
 * gives a warning and what could be read.
 */
export async function inspectRun(runDirOrUrl: string, filter: InspectFilter, n: number, seed = 0): Promise<{ matched: number; docs: InspectedDoc[]; warnings: InspectWarnings }> {
  return withRun(runDirOrUrl, async (run) => {
    const unfinished = await checkRunFolder(run);
    const options = await readStageOptions(run.dir, run.files);
    const outcomes = filter.outcomes ?? (filter.reason !== undefined ? ['rejected' as const] : ['kept' as const, 'rejected' as const, 'errored' as const]);
    const unread = unreadShards(run);
    const warnings = () => [...(unfinished ? [unfinished] : []), ...unread.warnings()];
    if (filter.cluster !== undefined) return { ...(await inspectCluster(run, filter, options, unread.onUnread)), warnings: warnings() };
    // One document's fate is every record of it (a plan never copies into kept/, but an id may repeat across sources): all shown.
    const sample = new SeededReservoir<InspectedDoc>(filter.id !== undefined || filter.url !== undefined ? Number.MAX_SAFE_INTEGER : n, seed);
    for await (const r of runRecords(run.dir, outcomes, run.files, unread.onUnread)) if (matches(r, filter)) sample.add(inspected(r, options));
    return { matched: sample.count, docs: sample.values(), warnings: warnings() };
  });
}

async function inspectCluster(run: OpenedRun, filter: InspectFilter, options: StageOptions, onUnread: (s: UnreadShard) => void): Promise<{ matched: number; docs: InspectedDoc[] }> {
  const runDir = run.dir;
  const rest = { ...filter, cluster: undefined };
  const inCluster: InspectedDoc[] = [];
  const wanted = new Set<string>();
  for await (const r of runRecords(runDir, ['kept', 'rejected'], run.files, onUnread)) {
    if (r.meta.dedup_cluster !== filter.cluster || !matches(r, rest)) continue;
    inCluster.push(inspected(r, options));
    if (typeof r.meta.duplicate_of === 'string') wanted.add(r.meta.duplicate_of);
  }
  if (inCluster.length === 0) throw new RefineryError(`no document has meta.dedup_cluster "${filter.cluster}" (cluster ids look like minhash-dedup/3; refinery inspect --stage minhash-dedup shows some)`);
  for (const d of inCluster) wanted.delete(d.id);
  // A kept document that a later dedup stage put in another cluster no longer carries this id.
  const others: InspectedDoc[] = [];
  if (wanted.size) for await (const r of runRecords(runDir, ['kept', 'rejected'], run.files, onUnread)) if (wanted.has(r.id)) others.push(inspected(r, options));
  const survivorFirst = (d: InspectedDoc) => (d.meta.duplicate_of === undefined ? 0 : 1);
  const docs = [...others, ...inCluster].sort((a, b) => survivorFirst(a) - survivorFirst(b));
  return { matched: docs.length, docs };
}

/** Control characters (terminal escapes in crawled text) shown as `·`; newlines as ` ⏎ `. */
export function previewText(text: string, chars: number): string {
  // Flattening is local (a line break, a control character, a run of white space), so a prefix
  // whose flattened form runs well past `chars` gives the same first `chars` characters as the
  // whole text: the report previews every sampled document, and flattening whole texts of several
  // KB would be a visible part of the CPU of bench/pipeline.bench.ts's MinHash run.
  for (let take = 2 * chars + 64; take < text.length; take *= 2) {
    const flat = flattenText(text.slice(0, take));
    if (flat.length > chars + 8) return `${flat.slice(0, chars)}…`;
  }
  const flat = flattenText(text);
  return flat.length > chars ? `${flat.slice(0, chars)}…` : flat;
}

function flattenText(text: string): string {
  return text.replace(/\r?\n/g, ' ⏎ ').replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, '·').replace(/\s+/g, ' ').trim();
}

function fmt(x: number): string {
  return Number.isInteger(x) ? x.toLocaleString('en-US') : String(Math.round(x * 10_000) / 10_000);
}

/** One line for a rule's measurement: `gopher_quality.words = 43 (dropped below 50)`, `... (dropped below 10, language: de)` under an override. */
export function measurementLine(d: Pick<InspectedDoc, 'field' | 'value' | 'threshold' | 'drops' | 'when'>): string | undefined {
  if (d.field === undefined || d.value === undefined) return undefined;
  const limit = d.threshold === undefined ? '' : ` (dropped ${d.drops} ${fmt(d.threshold)}${d.when ? `, ${d.when}` : ''})`;
  return `${d.field} = ${fmt(d.value)}${limit}`;
}

export function formatInspected(d: InspectedDoc, previewChars = 400): string {
  const m = d.meta;
  const head = [d.outcome, d.reason ?? (d.outcome === 'errored' ? `error in ${d.stage ?? '?'}` : undefined), measurementLine(d)].filter(Boolean).join('  ');
  const facts = [
    `id ${d.id}`,
    typeof m.source === 'string' ? `source ${m.source}` : '',
    typeof m.language === 'string' ? `language ${m.language}` : '',
    typeof m.reject_detail === 'string' ? `detail ${m.reject_detail}` : '',
    typeof m.dedup_cluster === 'string' ? `cluster ${m.dedup_cluster}` : '',
    typeof m.duplicate_of === 'string' ? `duplicate of ${m.duplicate_of}` : '',
    d.file,
  ].filter(Boolean);
  const lines = [`── ${previewText(head, 300)}`, `   ${previewText(facts.join(' · '), 400)}`];
  if (d.error !== undefined) lines.push(`   error: ${previewText(d.error, 300)}`);
  lines.push(`   ${previewText(d.text, previewChars)}`);
  return lines.join('\n');
}

const OUTCOMES: Record<string, Outcome> = { kept: 'kept', rejected: 'rejected', errors: 'errored', errored: 'errored' };

function outcomesOption(value: string): Outcome[] {
  return value.split(',').map((v) => {
    const o = OUTCOMES[v.trim()];
    if (!o) throw new RefineryError(`--from: "${v}" is not one of kept, rejected, errors`);
    return o;
  });
}

export function registerInspectCommand(program: Command): void {
  program
    .command('inspect')
    .description('Show documents of a finished run (kept/, rejected/, errors/) with what the rule that dropped them measured; a seeded sample of those that match.')
    .argument('<run>', 'output folder of a run, or its s3://bucket/prefix')
    .option('--id <id>', 'the fate of this document: kept, rejected (with the reason and measurement) or errored; every record of it')
    .option('--url <url>', 'the fate of the document(s) whose meta.url is this')
    .option('--reason <stage:rule>', 'documents rejected for this reason (meta.reject_reason), e.g. gopher-quality:short_doc')
    .option('--stage <name>', 'documents this stage rejected or failed on')
    .option('--source <name>', 'documents whose meta.source is this')
    .option('--language <code>', 'documents whose meta.language is this')
    .option('--bucket <id>', 'documents of this mix bucket: source/category/language/quality_band')
    .option('--cluster <id>', 'a dedup cluster (meta.dedup_cluster, e.g. minhash-dedup/3): the document kept and its duplicates')
    .option('--from <folders>', 'read only these, comma-separated: kept, rejected, errors (default: all; rejected with --reason)', outcomesOption)
    .option('-n, --number <n>', 'documents to show', positiveInt, 5)
    .option('--seed <n>', 'seed of the sample', wholeNumber(0), 0)
    .option('--chars <n>', 'characters of text in each preview', positiveInt, 400)
    .option('--json', 'one JSON document a line: {id, text, meta} with outcome, file, reason and the measurement', false)
    .action(async (runDir: string, o: { id?: string; url?: string; reason?: string; stage?: string; source?: string; language?: string; bucket?: string; cluster?: string; from?: Outcome[]; number: number; seed: number; chars: number; json: boolean }) => {
      const filter: InspectFilter = { ...pickDefined(o, ['id', 'url', 'reason', 'stage', 'source', 'language', 'bucket', 'cluster']), ...(o.from ? { outcomes: o.from } : {}) };
      const { matched, docs, warnings } = await inspectRun(runDir, filter, o.number, o.seed);
      for (const w of warnings) process.stderr.write(`refinery: warning: ${w}\n`);
      if (o.json) {
        for (const d of docs) process.stdout.write(`${JSON.stringify(d)}\n`);
        return;
      }
      const one = filter.id !== undefined ? `id ${filter.id}` : filter.url !== undefined ? `url ${filter.url}` : null;
      if (one !== null && matched === 0) {
        process.stdout.write(`no document with ${one} in ${runDir} (kept/, rejected/ or errors/${filter.outcomes ? ', as far as --from reads' : ''})\n`);
        return;
      }
      process.stdout.write(`${matched.toLocaleString('en-US')} document${matched === 1 ? '' : 's'} match; showing ${docs.length}${filter.cluster === undefined && docs.length < matched ? ` (seeded sample, --seed ${o.seed})` : ''}\n\n`);
      process.stdout.write(docs.map((d) => formatInspected(d, o.chars)).join('\n\n') + (docs.length ? '\n' : ''));
    });
}

function pickDefined<T extends Record<string, unknown>, K extends keyof T>(o: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (o[k] !== undefined) out[k] = o[k];
  return out;
}
