/**
 * How far the classifiers of a quality-ensemble stage agree (stats/quality-ensemble.json): per pair
 * of models, the rank correlation of their scores and the share of documents in the same or a
 * neighbouring percentile bin; per model, the documents whose band it alone set. Two models that
 * agree closely add little over one; a model that never sets the maximum adds nothing.
 */
import { join } from 'node:path';
import { readJsonIf } from '../run-files.ts';
import { availableText, maybe, missing, n, table, type Missing, type ReportSection } from '../section.ts';

interface PairRow {
  models: [string, string];
  docs: number;
  spearman: number | null;
  same_bin: number | null;
  within_one_bin: number | null;
}

interface ModelRow {
  model: string;
  scored: number;
  sets_max_alone: number;
}

export interface EnsembleAgreement {
  available: true;
  sample_docs: number;
  pairs: PairRow[];
  models: ModelRow[];
}

const isStats = (x: unknown): x is { agreement: { sample_docs: number; pairs: PairRow[]; models: ModelRow[] } } => {
  const a = (x as { agreement?: { sample_docs?: unknown; pairs?: unknown; models?: unknown } } | null)?.agreement;
  return typeof a?.sample_docs === 'number' && Array.isArray(a.pairs) && Array.isArray(a.models);
};

const share = (x: number | null) => maybe(x ?? undefined, (v) => `${(v * 100).toFixed(1)}%`);

export const ensembleAgreementSection: ReportSection<'ensemble_agreement', EnsembleAgreement | Missing> = {
  key: 'ensemble_agreement',
  title: "Quality classifiers' agreement",
  async collect({ runDir, files }) {
    const stats = await readJsonIf(join(runDir, 'stats', 'quality-ensemble.json'), files);
    if (!isStats(stats)) return missing('not run: no quality-ensemble stage (stats/quality-ensemble.json)');
    return { available: true, ...stats.agreement };
  },
  text: (data) =>
    availableText(data, (a) => ({
      notes: [`On a seeded sample of ${n(a.sample_docs)} documents scored by at least two models (docs/classifiers.md: ensembles).`],
      tables: [
        table(
          ['models', 'documents', 'Spearman', 'same bin', 'within one bin'],
          a.pairs.map((p) => [p.models.join(' / '), n(p.docs), maybe(p.spearman ?? undefined, (v) => v.toFixed(3)), share(p.same_bin), share(p.within_one_bin)]),
        ),
        table(
          ['model', 'documents scored', 'sets the band alone'],
          a.models.map((m) => [m.model, n(m.scored), n(m.sets_max_alone)]),
        ),
      ],
    })),
  charts: () => [],
};
