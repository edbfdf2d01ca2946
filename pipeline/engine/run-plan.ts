/**
 * Turns a RunConfig into phases of tasks. Stages are cut at each global stage into segments:
 *   process-0 (read input, segment 0) → map-1 → reduce-1 → process-1 (apply 1, segment 1) → ...
 * A task is named by its phase and index; the same names are used by the local worker pool and
 * by queue workers, and a finished task leaves a marker so that a rerun skips it.
 */
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import type { RunConfig } from '../config.ts';
import { ConfigError, InputError } from '../errors.ts';
import { stageDefinition } from '../registry.ts';
import { isS3Url, listInputs, statInput } from '../io/storage.ts';
import { hasGlob, type InputInfo } from '../io/input-names.ts';
import { brokenLink, oncePerFile } from '../io/input-links.ts';

export type TaskKind = 'process' | 'map' | 'reduce' | 'step' | 'finish';

export interface Task {
  kind: TaskKind;
  /** Segment number for process tasks; global-stage number (1-based) for map, reduce, step and finish. */
  step: number;
  /** Shard index (process, map), partition (reduce), task of a step, or 0 (finish). */
  index: number;
  /** Step tasks: which of the global stage's `steps`. */
  sub?: number;
  /** Step tasks of a repeating step: the round (0-based). */
  round?: number;
}

export interface Segment {
  /** Index in config.stages of the global stage whose applier opens this segment, if any. */
  global: number | null;
  /** Indices in config.stages of the per-document stages of this segment. */
  docStages: number[];
}

export interface Phase {
  name: string;
  /** The stage this phase belongs to (the global stage, or "read" for the first phase) and what it does (map, reduce ...), for stats.json. */
  stage: string;
  kind: string;
  /** Tasks of the phase; for a repeating phase, those of round 0 (`roundTasks` gives the others). */
  tasks: Task[];
  /** Runs in rounds until a round's tasks report no work left (GlobalStep.repeat). */
  repeat?: boolean;
}

/** The tasks of round `round` of a phase (the phase's own tasks for a phase that does not repeat). */
export function roundTasks(phase: Phase, round: number): Task[] {
  return phase.repeat ? phase.tasks.map((t) => ({ ...t, round })) : phase.tasks;
}

/**
 * One unit of input: a file, or one stripe of a large file (every `parts`-th batch of
 * STRIPE_LINES records starting at batch `part`), so that several cores share one big file.
 */
export interface InputShard {
  file: string;
  part: number;
  parts: number;
  /** Default meta fields from the pipeline's `inputs` entry that named the file. */
  meta: Record<string, unknown>;
}

export interface RunPlan {
  config: RunConfig;
  shards: InputShard[];
  segments: Segment[];
  /** Partitions of each global stage, in segment order (segments[k].global). */
  partitions: number[];
  phases: Phase[];
  configHash: string;
}

export function taskId(t: Task): string {
  const sub = t.sub === undefined ? '' : `.${t.sub}`;
  const round = t.round === undefined ? '' : `-r${String(t.round).padStart(4, '0')}`;
  return `${t.kind}-${t.step}${sub}-${String(t.index).padStart(5, '0')}${round}`;
}

export function shardName(index: number): string {
  return `shard-${String(index).padStart(5, '0')}`;
}

export function segmentsOf(config: RunConfig): Segment[] {
  const segments: Segment[] = [{ global: null, docStages: [] }];
  config.stages.forEach((s, i) => {
    if (stageDefinition(s.stage)?.kind === 'global') segments.push({ global: i, docStages: [] });
    else segments[segments.length - 1]!.docStages.push(i);
  });
  return segments;
}

const inputKey = (config: RunConfig, i: number) => (config.inputsFromCommandLine ? `--input[${i}]` : `inputs[${i}]`);

/**
 * Expands inputs (paths or globs) to a sorted, de-duplicated list of files, each with the meta
 * defaults of the first entry that names it. Paths that lead to one file (links, a folder
 * reached twice through a link) give it once, under the first path, with a note naming the others.
 */
export async function expandInputs(config: RunConfig, note: (line: string) => void = (line) => process.stderr.write(`refinery: note: ${line}\n`)): Promise<{ file: string; meta: Record<string, unknown> }[]> {
  const files = new Map<string, Record<string, unknown>>();
  for (const [i, { pattern, meta }] of config.inputs.entries()) {
    let matched: string[];
    const isGlob = hasGlob(pattern);
    if (isGlob) matched = await listInputs(pattern, 'glob');
    else {
      const info = await statInput(pattern);
      if (!info) {
        const link = await brokenLink(pattern);
        throw new ConfigError(config.file, inputKey(config, i), link ? `${pattern} is ${link}` : `no such ${isS3Url(pattern) ? 'object or prefix' : 'file'}: ${pattern}`);
      }
      // A folder contributes its data files (not READMEs, not a run's _work/).
      matched = info.kind === 'folder' ? await listInputs(pattern, 'folder') : [pattern];
    }
    if (matched.length === 0) throw new ConfigError(config.file, inputKey(config, i), `"${pattern}" matches no ${isGlob ? 'file' : 'data file'}`);
    for (const m of matched.sort()) if (!files.has(m)) files.set(m, meta);
  }
  const { kept, duplicates } = await oncePerFile([...files.keys()]);
  if (duplicates.length) {
    const shown = duplicates.slice(0, 5).map((d) => `${inputName(config, d.path)} (= ${inputName(config, d.sameAs)})`);
    const more = duplicates.length > shown.length ? ` and ${duplicates.length - shown.length} more` : '';
    note(`${duplicates.length} input path${duplicates.length === 1 ? ' leads' : 's lead'} to a file already listed (a symbolic or hard link, or a folder reached twice through a link), so each file is read once: ${shown.join(', ')}${more}`);
  }
  return kept.sort().map((file) => ({ file, meta: files.get(file)! }));
}

/** Files over `splitBytes` become ceil(size / splitBytes) striped shards. */
export async function shardsOf(files: { file: string; meta: Record<string, unknown> }[], splitBytes: number): Promise<InputShard[]> {
  const out: InputShard[] = [];
  for (const { file, meta } of files) {
    const size = (await inputInfo(file)).size;
    const parts = splitBytes > 0 ? Math.max(1, Math.ceil(size / splitBytes)) : 1;
    for (let part = 0; part < parts; part++) out.push({ file, part, parts, meta });
  }
  return out;
}

async function inputInfo(file: string): Promise<InputInfo> {
  const info = await statInput(file);
  if (!info) throw new InputError(file, {}, 'no such file (it was listed a moment ago: deleted since?)');
  return info;
}

/** One input file as a run records it: its path relative to the pipeline's folder (an s3:// URL as it is) and its version. */
export interface InputVersion {
  file: string;
  size: number;
  /** Local files. Whole seconds: copies keep modification times only to the second (tar, zip) or round them (Node's fs.cp). */
  mtime_s?: number;
  /** Objects (s3://): the ETag, which the same bytes uploaded again keep (LastModified does not). */
  etag?: string;
}

/** How a run names an input file in run.json and in document ids: relative to the pipeline's folder, or the s3:// URL. */
export function inputName(config: RunConfig, file: string): string {
  return isS3Url(file) ? file : relative(config.baseDir, file) || '.';
}

/**
 * What makes two runs the same run, in terms that survive moving the checkout: the config (less
 * the worker count, the error tolerance and the output folder, which is where this is kept) and the
 * input shards, with every path relative to the pipeline's folder (baseDir), and each input file's
 * size and modification time, so that a rerun over changed inputs is not mistaken for a resume.
 */
export interface RunIdentity {
  config: Record<string, unknown>;
  shards: (Omit<InputShard, 'file'> & { file: string })[];
  files: InputVersion[];
}

export async function runIdentity(config: RunConfig, shards: InputShard[]): Promise<RunIdentity> {
  const rel = (p: string) => inputName(config, p);
  const files = [...new Set(shards.map((s) => s.file))];
  return {
    config: {
      inputs: config.inputs.map((i) => ({ pattern: rel(i.pattern), meta: i.meta })),
      stages: config.stages,
      plugins: config.plugins.map(rel),
      seed: config.seed,
      split_bytes: config.splitBytes,
      compression: config.compression,
      // only when not the default, so that the identity of a default run is what it was before the option
      ...(config.outputFormat !== undefined && config.outputFormat !== 'refinery' ? { output_format: config.outputFormat } : {}),
      reader: config.reader,
      // only when set: a compat run decides otherwise, so resuming one with the other is another run
      ...(config.compat !== undefined ? { compat: config.compat } : {}),
      // trial runs only: a resumed run with another limit or sample is another run
      ...(config.limit !== undefined ? { limit: config.limit } : {}),
      ...(config.sample !== undefined ? { sample: config.sample } : {}),
    },
    shards: shards.map((s) => ({ ...s, file: rel(s.file) })),
    files: await Promise.all(files.map(async (f) => {
      const st = await inputInfo(f);
      return st.etag !== undefined ? { file: rel(f), size: st.size, etag: st.etag } : { file: rel(f), size: st.size, mtime_s: Math.floor(st.mtimeMs! / 1000) };
    })),
  };
}

/**
 * The run id (queue job ids, stats.json): the identity and the absolute output folder (or bucket prefix), so that two
 * outputs of one config, or two checkouts on one Redis, are two runs. Resuming compares identities,
 * not this hash, so that a moved checkout resumes.
 */
export function hashIdentity(config: RunConfig, identity: RunIdentity): string {
  return createHash('sha256').update(JSON.stringify({ identity, output: config.output })).digest('hex').slice(0, 16);
}

/** What the planner needs to know of a global stage. */
export interface GlobalShape {
  partitions: number;
  finish: boolean;
  steps?: { name: string; tasks: number; repeat: boolean }[];
}

export async function planRun(config: RunConfig, shapeOf: (stageIndex: number) => Promise<GlobalShape>, shards?: InputShard[]): Promise<RunPlan> {
  const files = shards ?? (await shardsOf(await expandInputs(config), config.splitBytes));
  const segments = segmentsOf(config);
  const partitions: number[] = [];
  const phases: Phase[] = [];
  const shardTasks = (kind: TaskKind, step: number): Task[] => files.map((_, index) => ({ kind, step, index }));
  for (const [k, seg] of segments.entries()) {
    if (seg.global !== null) {
      const { partitions: p, finish, steps = [] } = await shapeOf(seg.global);
      const name = config.stages[seg.global]!.stage;
      partitions.push(p);
      phases.push({ name: `map ${name}`, stage: name, kind: 'map', tasks: shardTasks('map', k) });
      phases.push({ name: `reduce ${name}`, stage: name, kind: 'reduce', tasks: Array.from({ length: p }, (_, index) => ({ kind: 'reduce' as const, step: k, index })) });
      for (const [sub, st] of steps.entries()) {
        const tasks = Array.from({ length: st.tasks }, (_, index): Task => ({ kind: 'step', step: k, index, sub, ...(st.repeat ? { round: 0 } : {}) }));
        phases.push({ name: `${st.name} ${name}`, stage: name, kind: st.name, tasks, ...(st.repeat ? { repeat: true } : {}) });
      }
      if (finish) phases.push({ name: `finish ${name}`, stage: name, kind: 'finish', tasks: [{ kind: 'finish', step: k, index: 0 }] });
    }
    const applied = k === 0 ? null : config.stages[seg.global!]!.stage;
    phases.push({ name: applied === null ? 'read and filter' : `apply ${applied}`, stage: applied ?? 'read', kind: applied === null ? 'process' : 'apply', tasks: shardTasks('process', k) });
  }
  return { config, shards: files, segments, partitions, phases, configHash: hashIdentity(config, await runIdentity(config, files)) };
}

/** Folder layout of a run's output. */
export const layout = {
  kept: (out: string, shard: number, ext: string) => join(out, 'kept', `${shardName(shard)}.jsonl${ext}`),
  rejected: (out: string, step: number, shard: number, ext: string) => join(out, 'rejected', `${shardName(shard)}${step ? `.p${step}` : ''}.jsonl${ext}`),
  errors: (out: string, step: number, shard: number, ext: string) => join(out, 'errors', `${shardName(shard)}${step ? `.p${step}` : ''}.jsonl${ext}`),
  /**
   * Survivors of segment `step` that feed the next global stage: plain JSONL whatever the run's
   * compression, since only the run reads them back, once (gzip, even at level 0, would still send
   * every 256 KB through zlib's thread pool and compute a CRC: see docs/architecture.md).
   */
  between: (out: string, step: number, shard: number) => join(out, '_work', `segment-${step}`, `${shardName(shard)}.jsonl`),
  stageWork: (out: string, stageIndex: number, name: string) => join(out, '_work', `stage-${stageIndex}-${name}`),
  /** A task's marker, as a run-relative key (run-folder/store.ts). */
  markerKey: (t: Task) => `_work/tasks/${taskId(t)}.json`,
  runInfo: (out: string) => join(out, 'run.json'),
};
