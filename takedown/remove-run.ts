/**
 * `refinery remove`: takes documents out of a finished run, folder or s3:// prefix, as if its
 * input never had them: out of kept/, rejected/ and errors/, out of the token shards (only the
 * groups of shards that hold one are written again), out of the counts (stats.json, report.md,
 * the token manifest, stats/tokenize.json) and the report, with a log of what went in
 * `removals/<removal>.jsonl`. A contamination ledger (decontam/) loses their n-grams too.
 *
 * Resumable: before it changes anything it writes `removals/journal.json`, the whole plan (the
 * records to remove, the shards, the groups, and the counts as they were). Rewriting a document
 * shard is idempotent (a shard without the removed records is left alone); a token group is first
 * written whole under `removals/staging/` and marked staged in the journal, then moved into
 * place; the counts are computed from the originals in the journal. A removal killed at any
 * point and run again with the same lists ends as one that was never interrupted; the journal
 * goes last.
 */
import { copyFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { stableJson, writeFileAtomic } from '../pipeline/io/atomic.ts';
import { RefineryError } from '../pipeline/errors.ts';
import { funnelMarkdown, type RunStats } from '../pipeline/stats.ts';
import { readRunText, type RunFiles } from '../pipeline/run-folder/files.ts';
import { openRun, type OpenedRun } from '../pipeline/run-folder/open-run.ts';
import { TOKENS_DIR } from '../mixes/shards/tokenize-options.ts';
import { manifestPaths } from '../mixes/shards/manifest-names.ts';
import type { TokenizeManifest } from '../mixes/shards/manifest.ts';
import { REPORT_TALLY_FILE } from '../mixes/report/tally.ts';
import type { ShardFileEntry } from '../mixes/shards/shard-sink.ts';
import { documentShards, rewriteShard, shardRecords, type DocumentShard, type RecordFacts, type Removes } from './document-shards.ts';
import { matchOf, readRemovalRequest, requestKey, type Match, type RemovalFiles, type RemovalRequest } from './removal-request.ts';
import { manifestWithout, stageStatsWithout, statsWithout } from './run-counts.ts';
import { applyLedgerRemoval, planLedgerRemoval, type LedgerRemoval } from '../decontam/ledger-removal.ts';
import { groupHolds, groupOfDocumentShard, rewriteGroup, sinkSettings, type RemovedRows } from './token-shards.ts';
import { openTokenReader, tokenGroups } from '../mixes/shards/token-locations.ts';

export const REMOVALS_DIR = 'removals';
const JOURNAL = `${REMOVALS_DIR}/journal.json`;
const STAGING = `${REMOVALS_DIR}/staging`;

type Removed = RecordFacts & { match: Match };

interface GroupPlan {
  prefix: string;
  state: 'pending' | 'staged' | 'done';
  /** The group's files before (manifest entries), and, once staged, after. */
  before: ShardFileEntry[];
  after?: ShardFileEntry[];
  removed?: RemovedRows;
}

interface Journal {
  version: 1;
  removal: string;
  lists: RemovalFiles;
  records: Removed[];
  /** Document shards that hold a removed record (Dolma's attribute files with theirs). */
  shards: DocumentShard[];
  groups: GroupPlan[];
  /** The contamination ledger's part (decontam/), when the run has one. */
  ledger: LedgerRemoval | null;
  /** The counts as the run made them: what is written is always computed from these. */
  originals: { stats: string; report_md: string | null; manifest: { rel: string; text: string } | null; tokenize_stats: string | null; stage_stats: Record<string, string> };
}

export interface RemovalResult {
  removal: string;
  /** The log of what went, relative to the run. */
  log: string;
  resumed: boolean;
  documents: { kept: number; rejected: number; errored: number };
  shards: string[];
  tokens: { rewritten: string[]; deleted: string[]; groups: number };
}

/** Where a run finished hook (the researcher report) writes: as `refinery run` calls it. */
export type ReportHook = (dir: string, files: RunFiles) => Promise<void>;

async function readIf(run: OpenedRun, rel: string): Promise<string | null> {
  const path = join(run.dir, rel);
  return (await run.files.need(path)) ? readFile(path, 'utf8') : null;
}

async function writeRun(run: OpenedRun, rel: string, text: string): Promise<void> {
  const path = join(run.dir, rel);
  await writeFileAtomic(path, text);
  await run.put(path);
}

/** The token manifest of the run, where the tokenize stage wrote it, or null for a run that did not tokenize. */
async function findManifest(run: OpenedRun): Promise<{ rel: string; text: string } | null> {
  for (const path of manifestPaths(join(run.dir, TOKENS_DIR))) {
    const rel = path.slice(run.dir.length + 1);
    const text = await readIf(run, rel);
    if (text !== null) return { rel, text };
  }
  return null;
}

/** The tokenize stage's options as the run recorded them (run.json). */
function tokenizeOptions(runJson: string): { shard_size: number; row_group_size: number } {
  const stages = (JSON.parse(runJson) as { identity?: { config?: { stages?: { stage?: string; options?: Record<string, unknown> }[] } } }).identity?.config?.stages ?? [];
  const o = stages.find((s) => s.stage === 'tokenize')?.options;
  if (typeof o?.shard_size !== 'number' || typeof o.row_group_size !== 'number') throw new RefineryError('run.json: the tokenize stage\'s options (shard_size, row_group_size) are not recorded; cannot write its shards again');
  return { shard_size: o.shard_size, row_group_size: o.row_group_size };
}

/** Reads every document shard once: the records the request names, and the shards that hold them. */
async function plan(run: OpenedRun, request: RemovalRequest, lists: RemovalFiles, key: string): Promise<Journal> {
  const stats = await readIf(run, 'stats.json');
  if (stats === null) throw new RefineryError(`${run.location}: no stats.json, so not a finished run; finish it (run it again) before removing documents`);
  const shards = await documentShards(run);
  const records: Removed[] = [];
  const holding = new Set<string>();
  for (const shard of shards) {
    if (shard.attributes) continue;
    for await (const r of shardRecords(run, shard)) {
      const match = matchOf(request, r.id, r.url);
      if (match === null) continue;
      records.push({ ...r, match });
      holding.add(shard.rel);
    }
  }
  // Dolma's attribute files of a documents file: `kept/attributes/<set>/shard-…` beside `kept/documents/shard-…`.
  const documentsOf = (rel: string) => rel.replace(/\/attributes\/[^/]+\//, '/documents/');
  const touched = shards.filter((s) => holding.has(s.attributes ? documentsOf(s.rel) : s.rel));
  const manifest = await findManifest(run);
  const groups: GroupPlan[] = [];
  if (manifest !== null && records.length > 0) {
    const m = JSON.parse(manifest.text) as TokenizeManifest;
    const all = tokenGroups(m);
    const ids = new Set(records.map((r) => r.id));
    let chosen: typeof all;
    if (m.shuffle === null) {
      const named = new Set(records.filter((r) => r.num_tokens !== undefined).map((r) => groupOfDocumentShard(r.file)));
      chosen = all.filter((g) => named.has(g.prefix));
    } else {
      // Shuffled: any bucket may hold a document; each bucket's ids are read to find out.
      const reader = await openTokenReader();
      try {
        chosen = [];
        for (const g of all) {
          const paths = g.files.map((f) => join(run.dir, TOKENS_DIR, f.file));
          for (const p of paths) await run.files.need(p);
          if (await groupHolds(reader.connection, paths, m.format.layout, ids)) chosen.push(g);
        }
      } finally {
        reader.close();
      }
    }
    for (const g of chosen) groups.push({ prefix: g.prefix, state: 'pending', before: g.files });
  }
  const inputShards = records.map((r) => /(?:^|\/)shard-(\d+)[.]/.exec(r.file)?.[1]).filter((n) => n !== undefined).map(Number);
  const ledger = records.length ? await planLedgerRemoval(run, new Set(records.map((r) => r.id)), inputShards) : null;
  return {
    version: 1,
    removal: key,
    lists,
    records,
    shards: touched,
    groups,
    ledger,
    originals: { stats, report_md: await readIf(run, 'report.md'), manifest, tokenize_stats: await readIf(run, 'stats/tokenize.json'), stage_stats: await globalStageStats(run, JSON.parse(stats) as RunStats) },
  };
}

/** stats/<stage>.json of the run's global stages but tokenize (dedup and others), by stage name. */
async function globalStageStats(run: OpenedRun, stats: RunStats): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const s of stats.stages) {
    if (s.kind !== 'global' || s.name === 'tokenize' || s.name in out) continue;
    const text = await readIf(run, `stats/${s.name}.json`);
    if (text !== null) out[s.name] = text;
  }
  return out;
}

async function saveJournal(run: OpenedRun, journal: Journal): Promise<void> {
  await writeRun(run, JOURNAL, stableJson(journal));
}

/** Writes a group again under staging/, then moves it into tokens/; the journal says how far it got. */
async function rewriteGroups(run: OpenedRun, journal: Journal, manifestText: string): Promise<void> {
  const manifest = JSON.parse(manifestText) as TokenizeManifest;
  const settings = sinkSettings(manifest, tokenizeOptions(await readRunText(run.files, join(run.dir, 'run.json'))));
  const ids = new Set(journal.records.map((r) => r.id));
  const tokens = join(run.dir, TOKENS_DIR);
  const staging = join(run.dir, STAGING);
  const reader = await openTokenReader();
  try {
    for (const g of journal.groups) {
      if (g.state === 'pending') {
        const paths = g.before.map((f) => join(tokens, f.file));
        for (const p of paths) if (!(await run.files.need(p))) throw new RefineryError(`${run.where(p)}: listed in the token manifest, but not there`);
        await mkdir(staging, { recursive: true });
        const { files, removed } = await rewriteGroup(reader.connection, paths, manifest.format.layout, settings, g.prefix, staging, ids);
        for (const f of files) await run.put(join(staging, f.file));
        Object.assign(g, { state: 'staged', after: files, removed });
        await saveJournal(run, journal);
      }
      if (g.state === 'staged') {
        const after = g.after ?? [];
        for (const f of after) {
          const staged = join(staging, f.file);
          if (!(await run.files.need(staged))) continue; // moved before a kill
          const final = join(tokens, f.file);
          if (run.onBucket) await copyFile(staged, final);
          else await rename(staged, final);
          await run.put(final);
        }
        const names = new Set(after.map((f) => f.file));
        await run.delete(g.before.filter((f) => !names.has(f.file)).map((f) => join(tokens, f.file)));
        await run.delete(after.map((f) => join(staging, f.file)));
        g.state = 'done';
        await saveJournal(run, journal);
      }
    }
  } finally {
    reader.close();
  }
}

/** The manifest, stats/tokenize.json, the log, report.md, the report, then stats.json; the journal last. */
async function writeCounts(run: OpenedRun, journal: Journal, onReport?: ReportHook): Promise<void> {
  const o = journal.originals;
  if (o.manifest !== null && journal.groups.length > 0) {
    const manifest = JSON.parse(o.manifest.text) as TokenizeManifest;
    const rewritten = new Set(journal.groups.map((g) => g.prefix));
    const files = [...manifest.shards.filter((f) => !rewritten.has(f.file.replace(/-\d+\.parquet$/, ''))), ...journal.groups.flatMap((g) => g.after ?? [])];
    const removed: RemovedRows = {};
    for (const g of journal.groups) {
      for (const [id, r] of Object.entries(g.removed ?? {})) {
        const into = (removed[id] ??= { copies: 0, tokens: r.tokens });
        into.copies += r.copies;
      }
    }
    const next = manifestWithout(manifest, files, removed, journal.records, run.where(join(run.dir, o.manifest.rel)));
    await writeRun(run, o.manifest.rel, stableJson(next));
    if (o.tokenize_stats !== null) {
      const stats = JSON.parse(o.tokenize_stats) as Record<string, unknown>;
      await writeRun(run, 'stats/tokenize.json', stableJson({ ...stats, totals: next.totals, by_source: next.by_source }));
    }
  }
  const log = journal.records.map((r) => JSON.stringify({ id: r.id, ...(r.url !== undefined ? { url: r.url } : {}), outcome: r.outcome, file: r.file, ...(r.reason !== undefined ? { reason: r.reason } : {}), ...(r.stage !== undefined ? { stage: r.stage } : {}), match: r.match })).join('\n');
  await writeRun(run, `${REMOVALS_DIR}/${journal.removal}.jsonl`, log + (log ? '\n' : ''));
  const before = JSON.parse(o.stats) as RunStats;
  for (const [name, text] of Object.entries(o.stage_stats)) {
    const index = before.stages.findIndex((s) => s.name === name);
    await writeRun(run, `stats/${name}.json`, stableJson(stageStatsWithout(JSON.parse(text) as Record<string, unknown>, index, before, journal.records)));
  }
  const stats = statsWithout(JSON.parse(o.stats) as RunStats & Record<string, unknown>, journal.records);
  if (o.report_md !== null) {
    const cut = o.report_md.indexOf('Documents in:');
    await writeRun(run, 'report.md', `${cut < 0 ? '' : o.report_md.slice(0, cut)}${funnelMarkdown(stats)}`);
  }
  // The report previews documents: it is written again from the run as it is now, its documents
  // read back (the tally the run's tasks made of them holds the removed ones).
  await run.delete([join(run.dir, REPORT_TALLY_FILE)]);
  if (onReport && (await run.files.list(join(run.dir, 'report'))).length > 0) {
    await writeRun(run, 'stats.json', stableJson(stats));
    await onReport(run.dir, run.files);
    for (const name of await run.files.list(join(run.dir, 'report'))) await run.put(join(run.dir, 'report', name));
  }
  await writeRun(run, 'stats.json', stableJson(stats));
}

/**
 * Removes the documents the lists name from the run at `pathOrUrl`. A journal of another request
 * (a removal cut short) is refused: that removal is finished first, by running it again.
 */
export async function removeFromRun(pathOrUrl: string, lists: RemovalFiles, options: { onReport?: ReportHook; openRun?: (pathOrUrl: string) => Promise<OpenedRun> } = {}): Promise<RemovalResult> {
  const request = await readRemovalRequest(lists);
  const key = requestKey(request);
  const run = await (options.openRun ?? openRun)(pathOrUrl);
  try {
    const unlock = await run.lock();
    try {
      const pending = await readIf(run, JOURNAL);
      let journal: Journal;
      if (pending !== null) {
        journal = JSON.parse(pending) as Journal;
        if (journal.removal !== key) {
          const named = Object.entries(journal.lists).map(([k, v]) => `--${k} ${v}`).join(' ');
          throw new RefineryError(`${run.where(join(run.dir, JOURNAL))}: another removal (${journal.removal}, ${named}) was cut short; finish it first by running refinery remove with the same lists`);
        }
      } else {
        journal = await plan(run, request, lists, key);
        if (journal.records.length === 0) return summary(journal, false);
        await saveJournal(run, journal);
      }
      const ids = new Set(journal.records.map((r) => r.id));
      const goes: Removes = (id, url) => ids.has(id) && matchOf(request, id, url) !== null;
      for (const shard of journal.shards) await rewriteShard(run, shard, shard.attributes ? (id) => ids.has(id) : goes);
      if (journal.groups.length > 0 && journal.originals.manifest !== null) await rewriteGroups(run, journal, journal.originals.manifest.text);
      if (journal.ledger) await applyLedgerRemoval(run, journal.ledger, join(run.dir, STAGING), () => saveJournal(run, journal));
      await writeCounts(run, journal, options.onReport);
      await run.delete([join(run.dir, JOURNAL)]);
      await rm(join(run.dir, STAGING), { recursive: true, force: true });
      return summary(journal, pending !== null);
    } finally {
      await unlock();
    }
  } finally {
    await run.close();
  }
}

function summary(journal: Journal, resumed: boolean): RemovalResult {
  const documents = { kept: 0, rejected: 0, errored: 0 };
  for (const r of journal.records) documents[r.outcome]++;
  const after = new Set(journal.groups.flatMap((g) => (g.after ?? []).map((f) => f.file)));
  return {
    removal: journal.removal,
    log: `${REMOVALS_DIR}/${journal.removal}.jsonl`,
    resumed,
    documents,
    shards: journal.shards.map((s) => s.rel),
    tokens: {
      rewritten: [...after].sort(),
      deleted: journal.groups.flatMap((g) => g.before.map((f) => f.file)).filter((f) => !after.has(f)).sort(),
      groups: journal.groups.length,
    },
  };
}
