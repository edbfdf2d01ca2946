/**
 * The stage contract (DESIGN.md, "Data model"). A stage is either a per-document stage
 * (filter, annotator, mapper) that returns one verdict per document, or a global stage that
 * runs in phases: map per shard, reduce per partition, apply per shard. The runner owns
 * counting, batching, error isolation, reject/error outputs and timing; a stage owns its rule.
 */
import type { z } from 'zod';
import type { Doc } from './doc.ts';
import type { RunFiles } from './run-folder/files.ts';

/** Keep the document, or drop it naming the rule; the runner records `<stage>:<rule>`. */
export type Verdict = { keep: true } | { keep: false; rule: string; detail?: string };

export const KEEP: Verdict = Object.freeze({ keep: true });

export function drop(rule: string, detail?: string): Verdict {
  return detail === undefined ? { keep: false, rule } : { keep: false, rule, detail };
}

/** What a stage factory is given besides its options. */
export interface StageContext {
  /** Folder of the pipeline file: relative paths in options resolve against it. */
  baseDir: string;
  /** The run's output folder (kept/, rejected/, errors/, stats.json ...). */
  outputDir: string;
  /** Scratch folder of this stage in this run; global stages keep their phase data here. */
  workDir: string;
  /**
   * The run's files a task reads: ask for a file (`need`), a byte range or a folder's names before
   * reading what another task wrote, since on a bucket the task's folder holds only what it wrote
   * and fetched (pipeline/run-folder/).
   */
  files: RunFiles;
  /** The run's seed; a stage that samples derives its randomness from it. */
  seed: number;
  /** Where the stage sits in the config, e.g. `stages[3]`, for error messages. */
  keyPath: string;
}

/**
 * Options a run-level `compat: <name>` sets on a stage, by name: the stage's module says what a
 * mode means for it (for example, deciding as another implementation does), the config only
 * applies them, over the options the pipeline gives.
 */
export type StagePresets = Readonly<Record<string, Readonly<Record<string, unknown>>>>;

/**
 * Per-document stage. `process` receives documents in input order and returns one verdict per
 * document. It may write `doc.meta` (annotators and filters record what they measured, even
 * when they keep) and, for mappers, `doc.text`. If it throws, the runner retries the batch one
 * document at a time, so that only the document that fails goes to the error output: a batched
 * stage must therefore change a document only once it has its verdict (compute, then write), so
 * that the retry does not apply a change twice.
 */
export interface DocStage {
  readonly kind: 'filter' | 'annotator' | 'mapper';
  readonly name: string;
  /** Documents per `process` call (model inference wants many); default 1. */
  readonly batchSize?: number;
  process(docs: Doc[]): Verdict[] | Promise<Verdict[]>;
  close?(): Promise<void>;
}

/** One input shard of a run: the unit of work. */
export interface ShardRef {
  index: number;
  count: number;
}

/**
 * A phase of a global stage that runs after `reduce` as `tasks` tasks in parallel (e.g. one per
 * partition of a merge). With `repeat`, the phase runs in rounds 0, 1, 2 ... and each round
 * starts after every task of the previous one is done; the rounds stop after the first round in
 * which every task returned 0 (no work left). `run` returns the work it left for the next round
 * (messages sent, labels changed ...); a phase without `repeat` runs once and may return nothing.
 */
export interface GlobalStep {
  /** Shown in progress and in stats.json, e.g. `merge round`. */
  readonly name: string;
  readonly tasks: number;
  readonly repeat?: boolean;
  run(task: number, round: number, shardCount: number): Promise<number | void>;
}

/**
 * A stage that needs the whole corpus (dedup, tokenized output, the mix). The runner calls
 * `map` once per shard (any order, any process), then `reduce` once per partition after every
 * map is done, then each of `steps` in order (each as a phase of tasks, see GlobalStep), then
 * `finish` (if defined) once, then `applier` once per shard after that; the applier sees the
 * same documents in the same order as `map` did. Everything a phase writes goes under the
 * stage's `workDir` (or `outputDir` for final products), written atomically, so a phase task
 * that runs twice leaves the same bytes.
 */
export interface GlobalStage {
  readonly kind: 'global';
  readonly name: string;
  readonly partitions: number;
  map(shard: ShardRef, docs: AsyncIterable<Doc>): Promise<void>;
  reduce(partition: number, shardCount: number): Promise<void>;
  /** Partitioned phases between reduce and finish (e.g. merging clusters across partitions in rounds). */
  readonly steps?: readonly GlobalStep[];
  /** One task that combines every partition's small result (e.g. summing statistics). */
  finish?(shardCount: number): Promise<void>;
  applier(shard: ShardRef): Promise<DocStage>;
}

export type Stage = DocStage | GlobalStage;

export interface StageDefinition<O> {
  /** The name used in pipeline YAML and in reject reasons. */
  name: string;
  kind: Stage['kind'];
  /** One line for `--help` and README. */
  description: string;
  /** Validates the YAML `options` and fills in the published defaults. */
  options: z.ZodType<O>;
  /** The run-level `compat` modes this stage has, and the options each sets. */
  presets?: StagePresets;
  create(options: O, ctx: StageContext): Stage | Promise<Stage>;
}

/** A definition with its option type erased, so definitions of all stages fit in one table. */
export interface AnyStageDefinition {
  name: string;
  kind: Stage['kind'];
  description: string;
  options: z.ZodType<unknown>;
  presets?: StagePresets;
  create(options: unknown, ctx: StageContext): Stage | Promise<Stage>;
}

export function defineStage<O>(def: StageDefinition<O>): AnyStageDefinition {
  return def as unknown as AnyStageDefinition;
}

/**
 * The common case for filters: a stage whose rule is a pure function of one document and its
 * options. The definition names the stage once; the rule is all its module has to write.
 */
export function defineRuleStage<O>(def: {
  name: string;
  kind: DocStage['kind'];
  description: string;
  options: z.ZodType<O>;
  presets?: StagePresets;
  rule: (doc: Doc, options: O, ctx: StageContext) => Verdict;
}): AnyStageDefinition {
  const { rule, ...rest } = def;
  return defineStage<O>({ ...rest, create: (o, ctx) => perDocStage(def.kind, def.name, (doc) => rule(doc, o, ctx)) });
}

/** A per-document stage from a pure function of one document. */
export function perDocStage(
  kind: DocStage['kind'],
  name: string,
  decide: (doc: Doc) => Verdict,
): DocStage {
  return { kind, name, process: (docs) => docs.map(decide) };
}
