/**
 * The report's tally, as the core runs it in every process task (pipeline/engine/tallies.ts):
 * each listed section that shows documents counts what it needs of each settled document, and
 * the tasks' parts merge into `tallies/report.json`, from which the report is written without
 * reading kept/, rejected/ or errors/ back. A run folder without it (a run of an older version, a
 * folder made by hand) is read back through the same counters.
 */
import type { SettledDoc, Tally, TallyContext } from '../../pipeline/engine/tallies.ts';
import { stageSettings } from './measures.ts';
import { REPORT_SECTIONS } from './section-list.ts';
import type { DocumentCounts, ReportSection, SectionCounter, TallyScope } from './section.ts';

/** Where the core writes the merged tally, relative to the run folder. */
export const REPORT_TALLY_FILE = 'tallies/report.json';

/** A task's part, and the run's merged tally. */
export interface ReportTally {
  version: 1;
  documents: DocumentCounts;
  /** Per section key: its merged part. */
  sections: Record<string, unknown>;
}

/** The listed sections that gather from documents, with their part types forgotten. */
const tallying = (REPORT_SECTIONS as readonly ReportSection<string, unknown, unknown>[]).filter((s) => s.tally !== undefined);

export function tallyScope(context: TallyContext): TallyScope {
  return { stages: context.stages.map((s) => s.name), settings: stageSettings(context.stages), seed: context.seed };
}

/** A tally of the report's sections over the documents of one task (or of a run folder read back). */
export function createReportTally(scope: TallyScope): { add(d: SettledDoc): void; part(): ReportTally } {
  const documents: DocumentCounts = { kept: 0, rejected: 0, errored: 0 };
  const counters: [string, SectionCounter<unknown>][] = [];
  for (const s of tallying) if (s.tally) counters.push([s.key, s.tally.start(scope)]);
  return {
    add(d: SettledDoc) {
      documents[d.outcome]++;
      for (const [, c] of counters) c.add(d);
    },
    part: () => ({ version: 1, documents: { ...documents }, sections: Object.fromEntries(counters.map(([key, c]) => [key, c.part()])) }),
  };
}

export function mergeReportTallies(parts: ReportTally[]): ReportTally {
  const documents: DocumentCounts = { kept: 0, rejected: 0, errored: 0 };
  const sections: Record<string, unknown> = {};
  for (const p of parts) {
    documents.kept += p.documents.kept;
    documents.rejected += p.documents.rejected;
    documents.errored += p.documents.errored;
    for (const s of tallying) {
      const part = p.sections[s.key];
      if (part === undefined || !s.tally) continue;
      sections[s.key] = s.key in sections ? s.tally.merge(sections[s.key], part) : structuredClone(part);
    }
  }
  return { version: 1, documents, sections };
}

/** The core's entry points (TallyModule). */
export function createTally(context: TallyContext): Tally {
  return createReportTally(tallyScope(context));
}

export function mergeTallies(parts: unknown[]): unknown {
  return mergeReportTallies(parts as ReportTally[]);
}
