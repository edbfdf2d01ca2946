/** Quality scores: the distribution of every score field of the kept documents. */
import type { TopLevelSpec } from 'vega-lite';
import { base } from '../chart-specs.ts';
import { forEachScore } from '../settled-figures.ts';
import { addSketch, SketchBuilder, type ValueSketch } from '../value-sketch.ts';
import { availableText, missing, n, table, type Missing, type ReportSection } from '../section.ts';

const SCORE_BINS = 20;

export interface ScoreSection {
  available: true;
  basis: string;
  /** Documents read; a field's `count` is how many of them carry it. */
  docs: number;
  fields: { field: string; count: number; min: number; max: number; mean: number; bins: { from: number; to: number; docs: number }[] }[];
}

/** Per score field of the kept documents: the sum for the mean, twenty exact bins over [0, 1], and a sketch for a field with values outside it. */
interface ScoreTally {
  /** Kept documents. */
  docs: number;
  fields: Record<string, { sum: number; unit: number[]; sketch: ValueSketch }>;
}

/** The bin of a value in twenty bins over [0, 1]. */
const unitBin = (v: number) => Math.min(SCORE_BINS - 1, Math.floor(v / (1 / SCORE_BINS)));

/** Twenty bins over the values' range; over [0, 1] when every value lies in it (then exact, else of the values rounded as the sketch holds them). */
function histogramOf(f: ScoreTally['fields'][string]): ScoreSection['fields'][number]['bins'] {
  const { min, max } = f.sketch;
  if (min >= 0 && max <= 1) {
    const width = 1 / SCORE_BINS;
    return f.unit.map((docs, i) => ({ from: i * width, to: (i + 1) * width, docs }));
  }
  const width = max > min ? (max - min) / SCORE_BINS : 1;
  const bins = Array.from({ length: max > min ? SCORE_BINS : 1 }, (_, i) => ({ from: min + i * width, to: min + (i + 1) * width, docs: 0 }));
  for (const [v, docs = 0] of f.sketch.values) {
    const b = bins[Math.max(0, Math.min(bins.length - 1, Math.floor((v - min) / width)))];
    if (b) b.docs += docs;
  }
  return bins;
}

export const qualityScoresSection: ReportSection<'quality_scores', ScoreSection | Missing, ScoreTally> = {
  key: 'quality_scores',
  title: 'Quality scores',

  tally: {
    start() {
      let docs = 0;
      const fields = new Map<string, { sum: number; unit: number[]; sketch: SketchBuilder }>();
      return {
        add({ outcome, doc }) {
          if (outcome !== 'kept') return;
          docs++;
          forEachScore(doc.meta, (field, v) => {
            let f = fields.get(field);
            if (!f) fields.set(field, (f = { sum: 0, unit: new Array<number>(SCORE_BINS).fill(0), sketch: new SketchBuilder(1) }));
            f.sum += v;
            if (v >= 0 && v <= 1) f.unit[unitBin(v)] = (f.unit[unitBin(v)] ?? 0) + 1;
            f.sketch.add(v, 0);
          });
        },
        part: () => ({ docs, fields: Object.fromEntries([...fields].map(([field, f]) => [field, { sum: f.sum, unit: f.unit, sketch: f.sketch.sketch() }])) }),
      };
    },
    merge(into, part) {
      for (const [field, f] of Object.entries(part.fields)) {
        const have = into.fields[field];
        into.fields[field] = have ? { sum: have.sum + f.sum, unit: have.unit.map((x, i) => x + (f.unit[i] ?? 0)), sketch: addSketch(have.sketch, f.sketch) } : structuredClone(f);
      }
      into.docs += part.docs;
      return into;
    },
  },

  collect({ tallies, documents }) {
    const t = tallies.quality_scores as ScoreTally | undefined;
    if (!t || !documents || documents.kept === 0) return missing('not run: no documents in kept/');
    const fields = Object.entries(t.fields);
    if (fields.length === 0) return missing('no numeric quality or *score* fields in the kept documents\' meta');
    return {
      available: true,
      basis: documents.basisOf(['kept']),
      docs: t.docs,
      fields: fields.sort(([a], [b]) => (a < b ? -1 : 1)).map(([field, f]) => {
        const count = f.sketch.counts[0] ?? 0;
        return { field, count, min: f.sketch.min, max: f.sketch.max, mean: f.sum / count, bins: histogramOf(f) };
      }),
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
