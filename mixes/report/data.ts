/** Everything a run report shows, gathered from a run folder section by section (section-list.ts). */
import { openRunSources } from './run-sources.ts';
import { REPORT_SECTIONS, type SectionsData } from './section-list.ts';
import type { RunFiles } from '../../pipeline/run-folder/files.ts';

export { isScoreField, SCORE_FIELD_NAMES } from './measures.ts';
export type { Missing } from './section.ts';

export type RunReport = {
  version: 1;
  run_dir: string;
  /** What `examples`, the per-source and per-language funnels and `histograms` were computed from, or why they are empty. */
  documents_basis: string;
} & SectionsData;

/** The report's data of the run in `runDir`; `files` reads the run (a bucket run's files are fetched as the report reads them). */
export async function collectRunReport(runDir: string, options: { seed?: number; files?: RunFiles } = {}): Promise<RunReport> {
  const sources = await openRunSources(runDir, options);
  const parts: Record<string, unknown> = {};
  for (const s of REPORT_SECTIONS) parts[s.key] = await s.collect(sources);
  return {
    version: 1,
    run_dir: runDir,
    documents_basis: sources.documents ? sources.documents.basisOf(['kept', 'rejected', 'errored']) : 'not run: no documents in kept/, rejected/ or errors/',
    ...(parts as SectionsData),
  };
}
