/**
 * Pipeline configuration: the YAML schema, its validation (every error names the key path),
 * and the resolved, JSON-serialisable form that the runner, worker threads and queue workers share.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { parseDocument } from 'yaml';
import { ConfigError } from './errors.ts';
import type { AnyStageDefinition } from './stage.ts';
import { loadPlugins, loadStage, stageDefinition, stageNames } from './registry.ts';
import { DEFAULT_HTML_EXTRACTOR, HTML_EXTRACTORS, type ReaderOptions } from './io/read-item.ts';
import { OUTPUT_FORMATS, type OutputFormat } from './io/document-layout.ts';
import { isS3Url, objectUrlProblem } from './io/storage.ts';
import type { When } from './engine/stage-overrides.ts';
import { includeOverrideFiles } from './overrides-file.ts';

/** A local path is resolved against `baseDir`; an s3:// URL is taken as it is. */
const inputPath = (baseDir: string, path: string): string => (isS3Url(path) ? path : resolve(baseDir, path));

const WhenValueSchema = z.union([z.string(), z.number(), z.boolean(), z.null()]);
const OverrideSchema = z
  .object({
    /** Meta field → value, or list of values; every field must match. */
    when: z.record(z.string(), z.union([WhenValueSchema, z.array(WhenValueSchema).min(1)])).refine((w) => Object.keys(w).length > 0, 'name at least one meta field'),
    /** Options that replace the stage's for these documents. */
    options: z.record(z.string(), z.unknown()),
  })
  .strict();

const StageEntrySchema = z.union([
  z.string(),
  z
    .object({
      stage: z.string(),
      options: z.record(z.string(), z.unknown()).optional(),
      /** `annotate`: the stage's drops become tags (meta.<stage>.would_drop) and the document is kept; `select` decides later. */
      mode: z.enum(['filter', 'annotate']).optional(),
      /** Per-document stages: other options for the documents whose meta matches `when` (the first match wins). */
      overrides: z.array(OverrideSchema).optional(),
    })
    .strict(),
]);

const InputEntrySchema = z.union([
  z.string(),
  z
    .object({
      path: z.string(),
      /** Default meta fields of these documents, e.g. {source: stack, category: code}. */
      meta: z.record(z.string(), z.unknown()).default({}),
    })
    .strict(),
]);

/** A run fails when more than 5% of its documents errored: a few bad records are normal in a crawl; more is a bug or the wrong input. */
export const DEFAULT_MAX_ERROR_RATE = 0.05;

export const PipelineFileSchema = z
  .object({
    /** Paths or globs, relative to the pipeline file, each optionally with default meta fields. */
    inputs: z.union([z.string(), z.array(InputEntrySchema).min(1)]),
    /** Output folder, relative to the pipeline file, or an s3:// prefix (pipeline/run-folder/bucket.ts). */
    output: z.string().min(1),
    /** With an s3:// output: the local folder where each task keeps its scratch while it runs; default under TMPDIR. */
    work_dir: z.string().min(1).optional(),
    /** Modules exporting `stages` (extra stage definitions), relative to the pipeline file. */
    plugins: z.array(z.string()).default([]),
    stages: z.array(StageEntrySchema).default([]),
    /** Worker threads; default: every core. */
    workers: z.number().int().min(1).optional(),
    seed: z.number().int().min(0).default(0),
    /** Input files larger than this (bytes on disk) are shared by several tasks; 0 = never. */
    split_bytes: z.number().int().min(0).default(256 * 1024 * 1024),
    /** Compression of kept/rejected/errors shards. */
    compression: z.enum(['gzip', 'zstd']).default('gzip'),
    /** Layout of kept/ and rejected/ documents (pipeline/io/document-layout.ts). */
    output_format: z.enum(OUTPUT_FORMATS).default('refinery'),
    /** The run fails (exit status 1) when more than this share of its input documents errored. */
    max_error_rate: z.number().min(0).max(1).default(DEFAULT_MAX_ERROR_RATE),
    /** Trial run: read only the first N records of each input shard (pipeline/engine/trial.ts). */
    limit: z.number().int().min(1).optional(),
    /** Trial run: read only a seeded share of the documents, chosen by the hash of their id with `seed`. */
    sample: z.number().gt(0).max(1).optional(),
    /** A mode some stages have (their `presets`): each stage that has it gets the options the mode sets (docs/filters.md). */
    compat: z.string().min(1).optional(),
    reader: z
      .object({
        text_field: z.string().default('text'),
        id_field: z.string().default('id'),
        max_doc_bytes: z.number().int().positive().default(64 * 1024 * 1024),
        /** Main text of WARC HTML pages: html-main-text.ts (`fast`) or Readability (docs/readers.md). */
        html_extractor: z.enum(HTML_EXTRACTORS).default(DEFAULT_HTML_EXTRACTOR),
      })
      .strict()
      .default({ text_field: 'text', id_field: 'id', max_doc_bytes: 64 * 1024 * 1024, html_extractor: DEFAULT_HTML_EXTRACTOR }),
  })
  .strict();

export type PipelineFile = z.input<typeof PipelineFileSchema>;

export interface InputSpec {
  /** Absolute path or glob, or an s3:// URL (of an object, a prefix, or a glob over keys). */
  pattern: string;
  /** Default meta fields of the documents read from it. */
  meta: Record<string, unknown>;
}

export interface ResolvedStage {
  stage: string;
  options: unknown;
  keyPath: string;
  /** Present only for `mode: annotate` (so that configs without it keep their identity). */
  mode?: 'annotate';
  /** Present only when the entry has overrides: each with its options resolved (base options, then the override's). */
  overrides?: { when: When; options: unknown }[];
}

/** Everything a task needs, as plain JSON. */
export interface RunConfig {
  /** The pipeline file, or a description such as `refinery filter` for command-line runs. */
  file: string;
  baseDir: string;
  inputs: InputSpec[];
  /** The inputs came from --input rather than the pipeline file (for error messages). */
  inputsFromCommandLine: boolean;
  /** Where the run is stored: an absolute folder path, or an s3://bucket/prefix URL (no final "/"). */
  output: string;
  /** With an s3:// output: the local folder where tasks keep their scratch (`work_dir`; default: the system's temporary folder). */
  scratch?: string;
  stages: ResolvedStage[];
  /** Absolute paths of stage plugin modules, loaded before stages are created. */
  plugins: string[];
  workers: number;
  seed: number;
  splitBytes: number;
  compression: 'gzip' | 'zstd';
  /** Layout of kept/ and rejected/ documents; absent means `refinery`. */
  outputFormat?: OutputFormat;
  reader: ReaderOptions;
  /** Share of input documents (0–1) that may error before the run fails; a run in which every document errored always fails. */
  maxErrorRate: number;
  /** Trial runs: the first `limit` records of each shard, a seeded `sample` share of the documents; absent: everything. */
  limit?: number;
  sample?: number;
  /** The run's `compat` mode, already applied to the options of the stages that have it; absent: none. */
  compat?: string;
}

export interface Overrides {
  inputs?: string[];
  output?: string;
  /** --work-dir: where the tasks of a run with an s3:// output keep their scratch. */
  workDir?: string;
  workers?: number;
  compat?: string;
  /** --limit and --sample replace the file's `limit` and `sample`. */
  limit?: number;
  sample?: number;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown, known: readonly string[]): string {
  if (issue.code === 'unrecognized_keys') {
    const hints = issue.keys.map((k) => {
      const near = known.find((n) => n !== k && (n.startsWith(k) || k.startsWith(n)));
      return `"${k}"${near ? ` (did you mean "${near}"?)` : ''}`;
    });
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${hints.join(', ')}`;
  }
  if (valueAt(input, issue.path) === undefined) return 'required, but missing';
  return issue.message.replace(/^Invalid input: /, '');
}

/** The most useful issue first: an unknown key (often a typo) explains a missing one. */
function firstIssue(file: string, prefix: string, error: z.ZodError, input: unknown, known: readonly string[] = []): ConfigError {
  let issue = error.issues.find((i) => i.code === 'unrecognized_keys') ?? error.issues[0]!;
  // A stage entry is a name or an object: report what is wrong in the object, not "invalid input".
  while (issue.code === 'invalid_union') {
    const branch = issue.errors.find((b) => b.length > 0 && !(b[0]!.code === 'invalid_type' && b[0]!.path.length === 0));
    if (!branch) break;
    issue = { ...branch[0]!, path: [...issue.path, ...branch[0]!.path] } as z.core.$ZodIssue;
  }
  const path = formatPath(issue.path);
  return new ConfigError(file, [prefix, path].filter(Boolean).join(prefix && path && !path.startsWith('[') ? '.' : ''), describeIssue(issue, input, known));
}

/**
 * Validates a parsed pipeline (from YAML or built by a command) into a RunConfig. Plugins and
 * stage modules named by the pipeline must be loaded first (`prepareConfig` does both).
 */
export function resolveConfig(raw: unknown, where: { file: string; baseDir: string }, overrides: Overrides = {}): RunConfig {
  const parsed = PipelineFileSchema.safeParse(raw);
  if (!parsed.success) throw firstIssue(where.file, '', parsed.error, raw, Object.keys(PipelineFileSchema.shape));
  const p = parsed.data;
  const compat = overrides.compat ?? p.compat;
  const compatKey = overrides.compat ? '--compat' : 'compat';
  const withMode = (def: AnyStageDefinition, options: Record<string, unknown>) => ({ ...options, ...(compat !== undefined ? def.presets?.[compat] : undefined) });
  const stages: ResolvedStage[] = p.stages.map((entry, i) => {
    const keyPath = `stages[${i}]`;
    const name = typeof entry === 'string' ? entry : entry.stage;
    const def = stageDefinition(name);
    if (!def) throw new ConfigError(where.file, typeof entry === 'string' ? keyPath : `${keyPath}.stage`, `unknown stage "${name}"; known stages: ${stageNames().join(', ') || '(none)'}`);
    const rawOptions = withMode(def, typeof entry === 'string' ? {} : (entry.options ?? {}));
    const opts = def.options.safeParse(rawOptions);
    if (!opts.success) throw firstIssue(where.file, `${keyPath}.options`, opts.error, rawOptions);
    const mode = typeof entry === 'string' ? undefined : entry.mode;
    const overrides = typeof entry === 'string' ? undefined : entry.overrides;
    if (overrides?.length && def.kind === 'global') {
      throw new ConfigError(where.file, `${keyPath}.overrides`, `${name} is a global stage (it decides over the whole corpus at once), so its options cannot differ per document; overrides apply to filters, annotators and mappers`);
    }
    const resolvedOverrides = (overrides ?? []).map((o, j) => {
      const merged = withMode(def, { ...rawOptions, ...o.options });
      const r = def.options.safeParse(merged);
      if (!r.success) throw firstIssue(where.file, `${keyPath}.overrides[${j}].options`, r.error, merged);
      return { when: o.when, options: r.data };
    });
    return { stage: name, options: opts.data, keyPath, ...(mode === 'annotate' ? { mode } : {}), ...(resolvedOverrides.length ? { overrides: resolvedOverrides } : {}) };
  });
  if (compat !== undefined && !stages.some((s) => stageDefinition(s.stage)?.presets?.[compat])) {
    const withModes = stages.flatMap((s) => Object.keys(stageDefinition(s.stage)?.presets ?? {}).map((m) => `${s.stage} (${m})`));
    throw new ConfigError(where.file, compatKey, `no stage of this pipeline has a "${compat}" mode; ${withModes.length ? `modes here: ${withModes.join(', ')}` : 'none of its stages has a mode'}`);
  }
  const entries = typeof p.inputs === 'string' ? [p.inputs] : p.inputs;
  const fromFile: InputSpec[] = entries.map((e) => (typeof e === 'string' ? { pattern: inputPath(where.baseDir, e), meta: {} } : { pattern: inputPath(where.baseDir, e.path), meta: e.meta }));
  const output = overrides.output ?? p.output;
  const outputKey = overrides.output ? '--output' : 'output';
  // The file's work_dir goes with the file's output: a local --output instead leaves it unused.
  const workDir = overrides.workDir ? resolve(overrides.workDir) : p.work_dir !== undefined && (isS3Url(output) || !overrides.output) ? resolve(where.baseDir, p.work_dir) : undefined;
  const outputProblem = isS3Url(output) ? objectUrlProblem(output) : null;
  if (outputProblem) throw new ConfigError(where.file, outputKey, `${output}: ${outputProblem}`);
  const inputKey = overrides.inputs?.length ? '--input' : 'inputs';
  for (const [i, pattern] of (overrides.inputs?.length ? overrides.inputs : entries.map((e) => (typeof e === 'string' ? e : e.path))).entries()) {
    const problem = isS3Url(pattern) ? objectUrlProblem(pattern) : null;
    if (problem) throw new ConfigError(where.file, `${inputKey}[${i}]`, `${pattern}: ${problem}`);
  }
  if (workDir !== undefined && !isS3Url(output)) throw new ConfigError(where.file, overrides.workDir ? '--work-dir' : 'work_dir', `only for an s3:// output (the local folder where its tasks keep their scratch); a local output folder is its own work folder`);
  return {
    file: where.file,
    baseDir: where.baseDir,
    // Overrides come from the command line: relative to the current folder, not the YAML.
    inputs: overrides.inputs?.length ? overrides.inputs.map((x) => ({ pattern: inputPath(process.cwd(), x), meta: {} })) : fromFile,
    inputsFromCommandLine: Boolean(overrides.inputs?.length),
    ...(isS3Url(output)
      ? { output: output.replace(/\/+$/, ''), ...(workDir !== undefined ? { scratch: workDir } : {}) }
      : { output: overrides.output ? resolve(overrides.output) : resolve(where.baseDir, p.output) }),
    stages,
    plugins: p.plugins.map((x) => resolve(where.baseDir, x)),
    workers: overrides.workers ?? p.workers ?? 0,
    seed: p.seed,
    splitBytes: p.split_bytes,
    compression: p.compression,
    outputFormat: p.output_format,
    maxErrorRate: p.max_error_rate,
    ...((overrides.limit ?? p.limit) !== undefined ? { limit: overrides.limit ?? p.limit } : {}),
    ...((overrides.sample ?? p.sample) !== undefined ? { sample: overrides.sample ?? p.sample } : {}),
    ...(compat !== undefined ? { compat } : {}),
    reader: {
      textField: p.reader.text_field,
      idField: p.reader.id_field,
      maxDocBytes: p.reader.max_doc_bytes,
      htmlExtractor: p.reader.html_extractor,
    },
  };
}

export async function loadPipelineFile(file: string, overrides: Overrides = {}): Promise<RunConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new ConfigError(file, '', 'no such file, or it cannot be read');
  }
  const doc = parseDocument(text, { prettyErrors: true });
  if (doc.errors.length) {
    const e = doc.errors[0]!;
    const pos = e.linePos?.[0];
    throw new ConfigError(file, pos ? `line ${pos.line}, column ${pos.col}` : '', `invalid YAML: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (e) {
    // The yaml library refuses documents whose aliases expand without bound ("billion laughs").
    throw new ConfigError(file, '', `invalid YAML: ${(e as Error).message}`);
  }
  raw = await includeOverrideFiles(raw, file, dirname(resolve(file)));
  return prepareConfig(raw, { file, baseDir: dirname(resolve(file)) }, overrides);
}

/** Loads the plugins a raw pipeline names and the modules of the stages it uses, then validates it. */
export async function prepareConfig(raw: unknown, where: { file: string; baseDir: string }, overrides: Overrides = {}): Promise<RunConfig> {
  const plugins = (raw as { plugins?: unknown } | null)?.plugins;
  if (Array.isArray(plugins)) {
    for (const [i, p] of plugins.entries()) {
      if (typeof p !== 'string') throw new ConfigError(where.file, `plugins[${i}]`, 'expected a module path');
      try {
        await loadPlugins([resolve(where.baseDir, p)]);
      } catch (e) {
        throw new ConfigError(where.file, `plugins[${i}]`, `cannot load ${p}: ${(e as Error).message}`);
      }
    }
  }
  const stages = (raw as { stages?: unknown } | null)?.stages;
  if (Array.isArray(stages)) {
    for (const entry of stages) {
      const name = typeof entry === 'string' ? entry : (entry as { stage?: unknown } | null)?.stage;
      if (typeof name === 'string') await loadStage(name);
    }
  }
  return resolveConfig(raw, where, overrides);
}
