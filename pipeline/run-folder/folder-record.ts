/**
 * The output folder a run owns: refused where a run must not write (`/`, the home folder, an input
 * folder), recognised by its run record (run.json with Refinery's format marker), resumed only
 * for the same config and inputs (else the first difference is named), emptied by --force only
 * when it is ours, and cleaned of the temporaries that a killed run of ours left.
 */
import { homedir } from 'node:os';
import { lstat, mkdir, readdir, readFile, realpath, rm, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, parse, relative, resolve, sep } from 'node:path';
import type { RunConfig } from '../config.ts';
import { RefineryError } from '../errors.ts';
import { writeFileAtomic, stableJson } from '../io/atomic.ts';
import { isS3Url } from '../io/storage.ts';
import { refuseLocked } from './folder-lock.ts';
import { entryFolder } from './files.ts';
import { layout, runIdentity, type InputVersion, type RunIdentity, type RunPlan } from '../engine/run-plan.ts';

/** Folders a run writes into (and --force removes, with RUN_FILES). */
export const RUN_FOLDERS = ['kept', 'rejected', 'errors', 'stats', 'tokens', 'report', 'tallies', 'decontam', 'removals', '_work'];
/** Files a run writes at the top of its output folder. */
export const RUN_FILES = ['stats.json', 'report.md', 'run.json'];
export const OUTPUT_NAMES = [...RUN_FOLDERS, ...RUN_FILES];

/** What `writeFileAtomic` and the shard writers name a file while they write it (`tempNameFor`). */
const TEMPORARY = /\.\d+\.[a-z0-9]{1,8}\.tmp$/;

/** run.json names its format, so that --force never deletes another tool's run.json and outputs. */
export const RUN_RECORD_FORMAT = 'refinery-run';
export const RUN_RECORD_VERSION = 1;

/** A queue run's claim on its output: which run, on which Redis (credentials left out), queue and key prefix. */
export interface QueueClaim {
  run: string;
  redis: string;
  queue: string;
  prefix: string;
}

export interface RunRecord {
  format: typeof RUN_RECORD_FORMAT;
  version: number;
  config_hash: string;
  identity: RunIdentity;
  /** Set by `refinery submit`: the output belongs to that queue run until it has finished (stats.json). */
  queue?: QueueClaim;
}

/** The run.json of a plan's run (a queue run's with its claim). */
export async function runRecordOf(plan: RunPlan, claim?: QueueClaim): Promise<RunRecord> {
  return { format: RUN_RECORD_FORMAT, version: RUN_RECORD_VERSION, config_hash: plan.configHash, identity: await runIdentity(plan.config, plan.shards), ...(claim ? { queue: claim } : {}) };
}

/**
 * One owner per output: a local run (claim undefined) may not write where a queue run is working
 * (its claim in run.json, and no stats.json yet), even with --force, since both would write the
 * same files; the refusal names the run and how to wait for it or stop it.
 */
export function refuseClaimed(where: string, previous: RunRecordState, claim: QueueClaim | undefined, finished: boolean): void {
  if (claim !== undefined || previous.kind !== 'ours' || !previous.record.queue || finished) return;
  const q = previous.record.queue;
  const target = `--redis ${q.redis} --queue ${q.queue} --prefix '${q.prefix}'`;
  throw new RefineryError(`${where} belongs to queue run ${q.run}, which has not finished: wait for it (refinery status ${q.run} ${target} --wait), or stop its workers first; a local run here, even with --force, would write the same files as that run's tasks. If that run has failed or was given up, delete ${where} to start afresh`);
}


/**
 * Temporary files left by a process that was killed mid-write; only called when no task runs.
 * Only where a run writes, and only names a run's writers give, so no file of the user's is touched.
 */
export async function removeStaleTemporaries(out: string): Promise<void> {
  for (const name of await readdir(out).catch(() => [] as string[])) {
    if (TEMPORARY.test(name) && RUN_FILES.some((f) => name.startsWith(`${f}.`))) await rm(join(out, name), { force: true });
  }
  for (const folder of RUN_FOLDERS) {
    // Never through a symbolic link: what it points to is not the run's.
    if (!(await lstat(join(out, folder)).catch(() => null))?.isDirectory()) continue;
    for (const e of await readdir(join(out, folder), { recursive: true, withFileTypes: true })) {
      if (e.isFile() && TEMPORARY.test(e.name) && !(await linkedBelow(join(out, folder), entryFolder(e)))) await rm(join(entryFolder(e), e.name), { force: true });
    }
  }
}

/** Whether a folder between `top` (excluded) and `dir` (included) is a symbolic link. */
async function linkedBelow(top: string, dir: string): Promise<boolean> {
  for (let d = dir; d.length > top.length; d = dirname(d)) if ((await lstat(d)).isSymbolicLink()) return true;
  return false;
}

/** The run names in an output folder that are symbolic links (a run never writes through one). */
async function linkedRunNames(out: string): Promise<string[]> {
  const linked: string[] = [];
  for (const n of OUTPUT_NAMES) if ((await lstat(join(out, n)).catch(() => null))?.isSymbolicLink()) linked.push(n);
  return linked;
}

/** `p` as the system sees it: symbolic links resolved as far as the path exists. */
async function canonical(p: string): Promise<string> {
  const abs = resolve(p);
  const real = await realpath(abs).catch(() => null);
  if (real) return real;
  const parent = dirname(abs);
  return parent === abs ? abs : join(await canonical(parent), basename(abs));
}

/** `inner` is `outer` or lies below it. */
function within(inner: string, outer: string): boolean {
  const r = relative(outer, inner);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
}

/**
 * The folder an input reads from, and whether it reads its subfolders too: a folder input reads
 * every data file below it; a glob reads below its fixed leading folders when it has `**` or a
 * pattern before its last part; a file reads only itself.
 */
async function inputFolder(pattern: string): Promise<{ folder: string; recursive: boolean }> {
  const glob = globRoot(pattern, sep);
  if (glob) return { folder: glob.folder || sep, recursive: glob.recursive };
  const info = await stat(pattern).catch(() => null);
  return info?.isDirectory() ? { folder: pattern, recursive: true } : { folder: dirname(pattern), recursive: false };
}

/** A glob's fixed leading folder, and whether it reads below it (`**`, or a pattern before its last part); null for a path without a pattern. */
export function globRoot(pattern: string, separator: string): { folder: string; recursive: boolean } | null {
  const parts = pattern.split(separator);
  const firstDynamic = parts.findIndex((p) => /[*?[\]{}]/.test(p));
  if (firstDynamic < 0) return null;
  return { folder: parts.slice(0, firstDynamic).join(separator), recursive: firstDynamic < parts.length - 1 || pattern.includes('**') };
}

/**
 * Refuses an output folder a run must not write into: the root, the user's home (or a folder
 * holding it), or one that overlaps an input (the next run would read this one's outputs).
 */
export async function checkOutputFolder(config: RunConfig): Promise<void> {
  const out = await canonical(config.output);
  const home = await canonical(homedir());
  if (out === parse(out).root || within(home, out)) {
    throw new RefineryError(`${config.output}: refusing to write a run into ${out === parse(out).root ? 'the root folder' : 'your home folder or a folder that holds it'} (a run creates kept/, rejected/, errors/ ... there); choose a folder of its own, e.g. ${join(config.output, 'refinery-out')}`);
  }
  for (const [i, input] of config.inputs.entries()) {
    const key = config.inputsFromCommandLine ? `--input[${i}]` : `inputs[${i}]`;
    if (isS3Url(input.pattern)) continue; // a bucket never overlaps a local output folder
    const { folder, recursive } = await inputFolder(input.pattern);
    const dir = await canonical(folder);
    if (within(dir, out)) throw new RefineryError(`output folder ${config.output} holds the input ${input.pattern} (${key}); choose an output folder outside the inputs`);
    if (recursive && within(out, dir)) throw new RefineryError(`output folder ${config.output} is inside the input folder ${folder} (${key}), so the next run would read this run's outputs; choose an output folder outside it`);
  }
}

export type RunRecordState = { kind: 'none' } | { kind: 'ours'; record: RunRecord } | { kind: 'foreign'; why: string };

/** `inner` is the prefix `outer` or lies below it (s3:// URLs, no final "/"). */
const withinPrefix = (inner: string, outer: string) => inner === outer || inner.startsWith(`${outer}/`);

/** The same refusals as a folder's for an s3:// output and an s3:// input: neither may hold the other where the input reads. */
export function checkBucketOverlap(output: string, pattern: string, key: string): void {
  // A URL without a pattern may be a prefix, read whole.
  const { folder, recursive } = globRoot(pattern, '/') ?? { folder: pattern.replace(/\/+$/, ''), recursive: true };
  if (withinPrefix(folder, output)) throw new RefineryError(`output ${output} holds the input ${pattern} (${key}); choose an output prefix outside the inputs`);
  if (recursive && withinPrefix(output, folder)) throw new RefineryError(`output ${output} is inside the input ${pattern} (${key}), so the next run would read this run's outputs; choose an output prefix outside it`);
}

/** What run.json of an output folder says: nothing, a Refinery run record, or something else. */
async function readRunRecord(out: string): Promise<RunRecordState> {
  return parseRunRecord(await readFile(layout.runInfo(out), 'utf8').catch(() => null));
}

/** What the text of a run.json (null: none) says. */
export function parseRunRecord(text: string | null): RunRecordState {
  if (text === null) return { kind: 'none' };
  let value: Partial<RunRecord> & Record<string, unknown>;
  try {
    value = JSON.parse(text) as Partial<RunRecord> & Record<string, unknown>;
  } catch {
    return { kind: 'foreign', why: 'its run.json is not JSON' };
  }
  if (value?.format !== RUN_RECORD_FORMAT) {
    return { kind: 'foreign', why: typeof value?.config_hash === 'string' ? 'its run.json was written by an older Refinery, before run records named their format; delete the folder to rerun there' : `its run.json is not a Refinery run record (no "format": "${RUN_RECORD_FORMAT}")` };
  }
  if (value.version !== RUN_RECORD_VERSION || !value.identity) return { kind: 'foreign', why: `its run.json is a Refinery run record of version ${String(value.version)}, which this Refinery (version ${RUN_RECORD_VERSION}) does not read` };
  return { kind: 'ours', record: value as RunRecord };
}

const show = (v: unknown) => (v === undefined ? '(absent)' : JSON.stringify(v));

/** The first place where two JSON values differ, as a key path, e.g. `stages[2].options.min_doc_words: 50, now 60`. */
function firstDifference(was: unknown, now: unknown, path: string): string | null {
  if (stableJson(was) === stableJson(now)) return null;
  if (was && now && typeof was === 'object' && typeof now === 'object' && Array.isArray(was) === Array.isArray(now)) {
    if (Array.isArray(was) && Array.isArray(now)) {
      if (was.length !== now.length) return `${path || '(top level)'}: ${was.length} entries, now ${now.length}`;
      for (let i = 0; i < was.length; i++) {
        const d = firstDifference(was[i], now[i], `${path}[${i}]`);
        if (d) return d;
      }
    } else {
      const a = was as Record<string, unknown>;
      const b = now as Record<string, unknown>;
      for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
        const d = firstDifference(a[k], b[k], path ? `${path}.${k}` : k);
        if (d) return d;
      }
    }
    return null;
  }
  return `${path || '(top level)'}: was ${show(was)}, now ${show(now)}`;
}

/** Says what changed between the run recorded in an output folder and this one (config key, or input file). */
export function describeChange(was: RunIdentity, now: RunIdentity): string {
  const configChange = firstDifference(was.config, now.config, '');
  if (configChange) return `config ${configChange}`;
  const before = new Map(was.files.map((f) => [f.file, f]));
  const after = new Map(now.files.map((f) => [f.file, f]));
  const added = now.files.filter((f) => !before.has(f.file)).map((f) => f.file);
  const removed = was.files.filter((f) => !after.has(f.file)).map((f) => f.file);
  const list = (xs: string[]) => `${xs.slice(0, 3).join(', ')}${xs.length > 3 ? ` and ${xs.length - 3} more` : ''}`;
  if (added.length) return `new input file${added.length > 1 ? 's' : ''} ${list(added)}`;
  if (removed.length) return `input file${removed.length > 1 ? 's' : ''} ${list(removed)} no longer matched`;
  const when = (f: InputVersion) => new Date((f.mtime_s ?? 0) * 1000).toISOString();
  for (const f of now.files) {
    const p = before.get(f.file)!;
    if (p.size !== f.size) return `input file ${f.file} changed: ${p.size} bytes, now ${f.size}`;
    if (p.etag !== f.etag) return `input object ${f.file} changed: ETag ${p.etag}, now ${f.etag}`;
    if (p.mtime_s !== f.mtime_s) return `input file ${f.file} changed: modified ${when(p)}, now ${when(f)} (a copy that keeps modification times, e.g. cp -a, resumes)`;
  }
  return `input shards ${firstDifference(was.shards, now.shards, '') ?? 'differ'}`;
}

/**
 * The refusals every store makes of an output that holds a run record (`previous`): something
 * that is not a Refinery run but holds names a run writes (`present`), or our run of another
 * config or other inputs without force.
 */
export function refuseOutput(where: string, kind: 'folder' | 'prefix', previous: RunRecordState, present: string[], identity: RunIdentity, force: boolean): void {
  if (previous.kind !== 'ours') {
    // Never delete or mix into what is not a Refinery output.
    const why = previous.kind === 'foreign' ? previous.why : 'it has no run.json';
    if (present.length) throw new RefineryError(`${where} is not the output ${kind === 'folder' ? 'folder ' : ''}of a Refinery run (${why}) but holds ${present.join(', ')}; choose an empty or new ${kind === 'folder' ? '--output' : 'output prefix'} (--force only replaces a Refinery run)`);
  } else if (!force) {
    const change = stableJson(previous.record.identity) === stableJson(identity) ? null : describeChange(previous.record.identity, identity);
    if (change) throw new RefineryError(`${where} holds the output of a run with another config or other inputs (${change}); choose another output, or pass --force to replace it`);
    // Resuming would write stats.json and the report again from the tasks' markers, which count
    // the removed documents, beside outputs that no longer hold them.
    if (present.includes('removals')) throw new RefineryError(`${where}: documents were removed from this run (refinery remove, logged in removals/), so resuming it would count them again; run on the inputs without them with --force, or into another output`);
  }
}

/** Checks the output folder is this run's (or empties it with force) and records the run. */
export async function prepareFolder(plan: RunPlan, force: boolean, claim?: QueueClaim): Promise<void> {
  await checkOutputFolder(plan.config);
  const out = plan.config.output;
  const record = await runRecordOf(plan, claim);
  const previous = await readRunRecord(out);
  refuseClaimed(out, previous, claim, (await stat(join(out, 'stats.json')).catch(() => null)) !== null);
  if (claim) await refuseLocked(out);
  const present = (await readdir(out).catch(() => [] as string[])).filter((n) => OUTPUT_NAMES.includes(n));
  const linked = await linkedRunNames(out);
  if (linked.length) throw new RefineryError(`${out}: ${linked.join(', ')} ${linked.length > 1 ? 'are symbolic links' : 'is a symbolic link'}; a run writes and deletes only in folders of its own: replace ${linked.length > 1 ? 'them' : 'it'} with a folder, or choose another --output`);
  refuseOutput(out, 'folder', previous, present, record.identity, force);
  if (previous.kind === 'ours' && force) {
    for (const n of OUTPUT_NAMES) await rm(join(out, n), { recursive: true, force: true });
  } else if (previous.kind === 'ours') {
    await removeStaleTemporaries(out);
  }
  // The layout is the same for every run, even when nothing is rejected or fails.
  for (const d of ['kept', 'rejected', 'errors']) await mkdir(join(out, d), { recursive: true });
  await writeFileAtomic(layout.runInfo(out), stableJson(record));
}
