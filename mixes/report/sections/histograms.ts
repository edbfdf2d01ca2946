/** Measurements: each numeric value the stages write into meta, kept against rejected, with the rules' thresholds. */
import type { TopLevelSpec } from 'vega-lite';
import { WIDTH } from '../charts.ts';
import type { Histogram } from '../documents.ts';
import { isScoreField } from '../measures.ts';
import { measureNumber, n, table, type ReportSection } from '../section.ts';

/** 1, 10, 100 ... within [lo, hi], for the ticks of a log axis. */
function powersOfTen(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let p = 1; p <= hi; p *= 10) if (p >= lo) out.push(p);
  return out;
}

/** A histogram of a measurement, kept and rejected stacked, with each threshold as a vertical line. */
function histogramChart(h: Histogram): TopLevelSpec {
  const values = h.bins.flatMap((b) => [
    { from: b.from, to: b.to, outcome: 'kept', docs: b.kept },
    { from: b.from, to: b.to, outcome: 'rejected', docs: b.rejected },
  ]);
  const lo = h.bins[0]?.from ?? h.min;
  const hi = h.bins[h.bins.length - 1]?.to ?? h.max;
  const lines = h.thresholds.filter((t) => t.value >= lo && t.value <= hi).map((t) => ({ value: t.value, label: `${t.rule.slice(t.rule.indexOf(':') + 1)} ${t.drops === 'above' ? '>' : '<'} ${t.value}` }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${h.field}: kept and rejected documents${h.overflow ? ' (last bar: everything above)' : ''}`,
    width: WIDTH,
    height: 160,
    config: { view: { stroke: null }, font: 'sans-serif', axis: { labelLimit: 0 } },
    layer: [
      {
        data: { values },
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: {
            field: 'from',
            type: 'quantitative',
            bin: { binned: true },
            title: `${h.field}${h.scale === 'log' ? ' (log scale)' : ''}`,
            scale: { type: h.scale === 'log' ? 'symlog' : 'linear', domain: [lo, hi], nice: false },
            ...(h.scale === 'log' ? { axis: { values: powersOfTen(lo, hi), format: ',d' } } : {}),
          },
          x2: { field: 'to' },
          y: { field: 'docs', type: 'quantitative', title: 'documents', stack: 'zero', axis: { tickMinStep: 1, format: 'd' } },
          color: { field: 'outcome', type: 'nominal', title: null, scale: { domain: ['kept', 'rejected'], range: ['#4c78a8', '#e45756'] } },
        },
      },
      ...(lines.length
        ? [
            { data: { values: lines }, mark: { type: 'rule', color: '#111', strokeDash: [4, 3], strokeWidth: 1.5 }, encoding: { x: { field: 'value', type: 'quantitative' } } },
            { data: { values: lines }, mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, y: 2, fontSize: 10 }, encoding: { x: { field: 'value', type: 'quantitative' }, text: { field: 'label' } } },
          ]
        : []),
    ],
  } as TopLevelSpec;
}

export const histogramsSection: ReportSection<'histograms', Record<string, Histogram>> = {
  key: 'histograms',
  title: 'Measurements: kept against rejected',
  collect: ({ views }) => views?.histograms ?? {},
  text(histograms, { documents_basis }) {
    const none = documents_basis.startsWith('not run');
    const fields = Object.values(histograms);
    if (none || !fields.length) return { notes: [none ? documents_basis : 'No numeric measurement in the documents\' meta.'], tables: [] };
    return {
      notes: [`From ${documents_basis}. Rejected counts every rejected document that carries the measurement, whichever rule rejected it. Charts show the measurements a rule compares with a threshold, and scores; report.json has a histogram of every one.`],
      tables: [
        table(
          ['measurement', 'kept', 'rejected', 'min', 'max', 'threshold', 'rules'],
          fields.map((h) => [h.field, n(h.kept), n(h.rejected), measureNumber(h.min), measureNumber(h.max), h.thresholds.map((t) => `${t.drops === 'above' ? '>' : '<'} ${measureNumber(t.value)}`).join(', ') || '–', h.rules.join(', ') || '–']),
          [false, true, true, true, true, false, false],
        ),
      ],
    };
  },
  charts: (histograms) => Object.values(histograms).filter((h) => h.thresholds.length || (isScoreField(h.field) && !h.field.includes('.'))).map(histogramChart),
};
