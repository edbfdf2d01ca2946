/**
 * The contract of a report section: one file under sections/ holds what the section reads from
 * the run (its part of report.json), the notes and tables that report.md and report.html print,
 * and its charts. section-list.ts orders the sections; the renderers only walk that list.
 */
import type { TopLevelSpec } from 'vega-lite';
import type { SettledDoc } from '../../pipeline/engine/tallies.ts';
import type { StageOptions } from './measures.ts';
import type { RunFiles } from '../../pipeline/run-folder/files.ts';
import type { ManifestBucket, PlanData, StatsData } from './run-schemas.ts';
import type { Outcome } from '../run-records.ts';

export interface Table {
  /** A title above the table (e.g. the rule whose examples it lists). */
  caption?: string;
  headers: string[];
  /** Right-aligned columns (numbers). */
  numeric: boolean[];
  rows: string[][];
}

/** What a section prints: notes ("not run: ..." or the basis of the figures), then tables. */
export interface SectionText {
  notes: string[];
  tables: Table[];
}

/** A section as report.md and report.html print it. */
export interface Section extends SectionText {
  key: string;
  title: string;
}

/** Documents settled per outcome. */
export interface DocumentCounts {
  kept: number;
  rejected: number;
  errored: number;
}

/** What the sections read of a run (run-sources.ts reads it once for all of them). */
export interface RunSources {
  runDir: string;
  files: RunFiles;
  /** stats.json as read (undefined when absent), and parsed when it has the expected shape. */
  statsRaw: unknown;
  stats: StatsData | undefined;
  /** The buckets of the tokenized manifest, and where the figures come from (`tokens in tokens/manifest.json`). */
  buckets?: ManifestBucket[];
  bucketsBasis: string;
  plan?: PlanData;
  /** Each stage's options and overrides (run.json). */
  settings: StageOptions;
  /** What the sections counted of the documents, by section key (empty when the run has no document). */
  tallies: Record<string, unknown>;
  /** How many documents were counted, and how to say so; absent when the run has no document. */
  documents?: DocumentCounts & {
    /** `all 1,234 documents in kept/, rejected/ (...)`: the documents of these outcomes and where they were counted. */
    basisOf(outcomes: Outcome[]): string;
  };
}


/** What a section's text may say about the report as a whole. */
export interface ReportContext {
  /** What the document views were computed from, or why there are none. */
  documents_basis: string;
}

/** What a section's tally knows of the run. */
export interface TallyScope {
  /** The run's stage names, in the config's order (a settled document's `stage` indexes it). */
  stages: string[];
  settings: StageOptions;
  seed: number;
}

/** One task's count of what a section shows of the documents (or the count of a run read back from its folder). */
export interface SectionCounter<P> {
  add(d: SettledDoc): void;
  /** JSON data. */
  part(): P;
}

/**
 * How a section gathers from documents: as the tasks settle them (a counter per task, parts
 * merged in task order), so the report never reads kept/ or rejected/ back. `merge` adds `part`
 * into `into`, which it may change (its own copy), and returns the sum; the sum must not depend
 * on how the documents were cut into tasks, beyond the order of floating-point additions.
 */
export interface SectionTally<P> {
  start(scope: TallyScope): SectionCounter<P>;
  merge(into: P, part: P): P;
}

/**
 * The common tally: numeric counters per key (a reject reason, a language). `count` looks at one
 * settled document and adds to the counters of the key it names through `of`; parts merge
 * counter by counter, keys in the order they first appear.
 */
export function countersByKey<C extends Record<string, number>>(zero: () => C, count: (d: SettledDoc, of: (key: string) => C) => void): SectionTally<Record<string, C>> {
  return {
    start() {
      const byKey: Record<string, C> = {};
      const of = (key: string): C => (byKey[key] ??= zero());
      return { add: (d) => count(d, of), part: () => byKey };
    },
    merge(into, part) {
      for (const [key, counters] of Object.entries(part)) {
        const o: Record<string, number> = (into[key] ??= zero());
        for (const [name, v] of Object.entries(counters)) o[name] = (o[name] ?? 0) + v;
      }
      return into;
    },
  };
}

export interface ReportSection<K extends string, D, P = never> {
  /** Its key in report.json and its anchor in report.html. */
  readonly key: K;
  readonly title: string;
  /** What it counts of each document, when it shows documents; its merged part is `run.tallies[key]`. */
  readonly tally?: SectionTally<P>;
  /** The section's part of report.json. */
  collect(run: RunSources): D | Promise<D>;
  text(data: D, context: ReportContext): SectionText;
  /** Vega-Lite specs, in page order; none when the data supports no chart. */
  charts(data: D): TopLevelSpec[];
}

/** A part of the report that the run may not have produced: why it is empty, e.g. "not run: no stats.json". */
export interface Missing {
  available: false;
  note: string;
}

export const missing = (note: string): Missing => ({ available: false, note });

/** The text of a section whose data may be missing: its note, else what `f` prints. */
export function availableText<D extends { available: true }>(data: D | Missing, f: (d: D) => SectionText): SectionText {
  return data.available ? f(data) : { notes: [data.note], tables: [] };
}

export const n = (x: number): string => x.toLocaleString('en-US');
export const maybe = (x: number | undefined, f: (v: number) => string): string => (x === undefined ? '–' : f(x));

/** A table whose first column is a label and the others numbers, unless `numeric` says otherwise. */
export function table(headers: string[], rows: string[][], numeric?: boolean[]): Table {
  return { headers, rows, numeric: numeric ?? headers.map((_, i) => i > 0) };
}

/** Compact number for a measurement: integers with separators, else 4 significant digits. */
export function measureNumber(x: number): string {
  return Number.isInteger(x) ? n(x) : String(Number(x.toPrecision(4)));
}

export function opt<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: number };
}
