/** The report's sections in page order. A new section is a file under sections/ and a line here. */
import type { TopLevelSpec } from 'vega-lite';
import type { ReportContext, ReportSection, Section } from './section.ts';
import { funnelSection } from './sections/funnel.ts';
import { funnelByLanguageSection, funnelBySourceSection } from './sections/group-funnel.ts';
import { examplesSection } from './sections/examples.ts';
import { histogramsSection } from './sections/histograms.ts';
import { dedupSection } from './sections/dedup.ts';
import { languagesSection } from './sections/languages.ts';
import { calibrationSection } from './sections/calibration.ts';
import { qualityScoresSection } from './sections/quality-scores.ts';
import { ensembleAgreementSection } from './sections/ensemble-agreement.ts';
import { bucketsSection } from './sections/buckets.ts';
import { sharesSection } from './sections/shares.ts';
import { epochsSection } from './sections/epochs.ts';
import { bindingConstraintsSection } from './sections/binding-constraints.ts';
import { piiSection } from './sections/pii.ts';
import { contaminationSection } from './sections/contamination.ts';
import { scalingSection } from './sections/scaling.ts';

export const REPORT_SECTIONS = [
  funnelSection,
  funnelBySourceSection,
  funnelByLanguageSection,
  examplesSection,
  histogramsSection,
  dedupSection,
  languagesSection,
  calibrationSection,
  qualityScoresSection,
  ensembleAgreementSection,
  bucketsSection,
  sharesSection,
  epochsSection,
  bindingConstraintsSection,
  scalingSection,
  piiSection,
  contaminationSection,
] as const;

type Listed = (typeof REPORT_SECTIONS)[number];

/** Every section's part of report.json, by its key. */
export type SectionsData = { [S in Listed as S['key']]: S extends ReportSection<string, infer D, infer _P> ? D : never };

/** A listed section with its data type forgotten, to walk the list. */
const listed = REPORT_SECTIONS as readonly ReportSection<string, unknown>[];

function dataOf(report: object, key: string): unknown {
  return (report as Record<string, unknown>)[key];
}

/** The sections as report.md and report.html print them. */
export function reportSections(report: SectionsData & ReportContext): Section[] {
  return listed.map((s) => ({ key: s.key, title: s.title, ...s.text(dataOf(report, s.key), report) }));
}

/** Every chart the report's data supports, in page order. */
export function chartSpecs(report: SectionsData): { section: string; spec: TopLevelSpec }[] {
  return listed.flatMap((s) => s.charts(dataOf(report, s.key)).map((spec) => ({ section: s.key, spec })));
}
