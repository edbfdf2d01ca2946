/** Quality scores: the distribution of every score field of the kept documents. */
import type { TopLevelSpec } from 'vega-lite';
import { base } from '../charts.ts';
import { scanBasis } from '../document-scan.ts';
import { availableText, missing, n, table, type Missing, type ReportSection } from '../section.ts';

const SCORE_BINS = 20;

export interface ScoreSection {
  available: true;
  basis: string;
  /** Documents read; a field's `count` is how many of them carry it. */
  docs: number;
  fields: { field: string; count: number; min: number; max: number; mean: number; bins: { from: number; to: number; docs: number }[] }[];
}

/** Twenty bins over the values' range; over [0, 1] when every value lies in it. */
function histogramOf(values: number[]): ScoreSection['fields'][number]['bins'] {
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    if (v < min) min = v;
    if (v > max) max = v;
  }
  if (min >= 0 && max <= 1) {
    min = 0;
    max = 1;
  }
  const width = max > min ? (max - min) / SCORE_BINS : 1;
  const bins = Array.from({ length: max > min ? SCORE_BINS : 1 }, (_, i) => ({ from: min + i * width, to: min + (i + 1) * width, docs: 0 }));
  for (const v of values) bins[Math.min(bins.length - 1, Math.floor((v - min) / width))]!.docs++;
  return bins;
}

export const qualityScoresSection: ReportSection<'quality_scores', ScoreSection | Missing> = {
  key: 'quality_scores',
  title: 'Quality scores',

  collect({ keptScan }) {
    if (!keptScan) return missing('not run: no documents in kept/');
    if (keptScan.scores.size === 0) return missing('no numeric quality or *score* fields in the kept documents\' meta');
    return {
      available: true,
      basis: scanBasis('kept', keptScan),
      docs: keptScan.docs,
      fields: [...keptScan.scores.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([field, values]) => ({
        field,
        count: values.length,
        min: Math.min(...values),
        max: Math.max(...values),
        mean: values.reduce((a, b) => a + b, 0) / values.length,
        bins: histogramOf(values),
      })),
    };
  },

  text: (data) =>
    availableText(data, (q) => {
      const notes = [`From ${q.basis}.`];
      for (const f of q.fields) {
        if (f.count < q.docs) notes.push(`${f.field}: ${n(f.count)} of the ${n(q.docs)} documents carry it; ${n(q.docs - f.count)} do not (source code is not scored: langid leaves code\'s language as it is, and the quality stage skips code unless skip_code is false).`);
      }
      return { notes, tables: [table(['field', 'documents', 'min', 'mean', 'max'], q.fields.map((x) => [x.field, n(x.count), x.min.toFixed(3), x.mean.toFixed(3), x.max.toFixed(3)]))] };
    }),

  charts(data) {
    if (!data.available) return [];
    return data.fields.map(
      (f) =>
        ({
          ...base(`${f.field}: documents per score`, f.bins),
          mark: { type: 'bar', tooltip: true },
          encoding: {
            x: { field: 'from', type: 'quantitative', bin: { binned: true }, title: f.field },
            x2: { field: 'to' },
            y: { field: 'docs', type: 'quantitative', title: 'documents' },
          },
        }) as TopLevelSpec,
    );
  },
};
