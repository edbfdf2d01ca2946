/**
 * The report's charts: Vega-Lite specs compiled and rendered to SVG strings at build time with
 * Vega's headless view (no canvas, no browser, no network), so report.html needs no script.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { RunReport } from './data.ts';
import { isScoreField } from './measures.ts';

export interface Chart {
  /** Section the chart belongs to (a key of RunReport). */
  section: keyof RunReport;
  title: string;
  svg: string;
}

const WIDTH = 560;
const TOP = 30;

/** Renders one Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

type Row = Record<string, string | number>;

function base(title: string, values: Row[]): Pick<TopLevelSpec, '$schema'> & { title: string; data: { values: Row[] }; width: number; config: Record<string, unknown> } {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    width: WIDTH,
    // labelLimit 0: long rule and bucket names are shown whole, never cut.
    config: { view: { stroke: null }, font: 'sans-serif', axis: { labelLimit: 0 }, legend: { labelLimit: 0 } },
  };
}

function hbar(title: string, values: Row[], label: string, value: string, valueTitle: string, color?: string): TopLevelSpec {
  return {
    ...base(title, values),
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: label, type: 'nominal', sort: '-x', title: null },
      x: { field: value, type: 'quantitative', title: valueTitle },
      ...(color ? { color: { field: color, type: 'nominal' } } : {}),
    },
  } as TopLevelSpec;
}

/** Bars per group side by side, horizontally, so that long group names never overlap. */
function groupedRows(title: string, values: Row[], group: string, series: string, order: string[], value: string, valueTitle: string, format = ''): TopLevelSpec {
  return {
    ...base(title, values),
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: group, type: 'nominal', title: null },
      yOffset: { field: series, type: 'nominal', sort: order },
      x: { field: value, type: 'quantitative', title: valueTitle, ...(format ? { axis: { format } } : {}) },
      color: { field: series, type: 'nominal', title: null, sort: order, scale: { domain: order, range: ['#9ecae9', '#4c78a8', '#f58518'].slice(3 - order.length) } },
    },
  } as TopLevelSpec;
}

/** Achieved share outside the target range (or, without one, more than 1 point from the plan). */
export function shareMissed(x: { planned: number; achieved?: number; min?: number; max?: number }): boolean {
  if (x.achieved === undefined) return false;
  if (x.min !== undefined || x.max !== undefined) return x.achieved < (x.min ?? 0) - 1e-9 || x.achieved > (x.max ?? 1) + 1e-9;
  return Math.abs(x.achieved - x.planned) > 0.01;
}

/** Where the documents of each group went: kept, or removed by which stage. */
function groupFunnelChart(title: string, groups: RunReport['funnel_by_source']): TopLevelSpec | undefined {
  const names = Object.keys(groups);
  if (!names.length) return undefined;
  const values: Row[] = [];
  const stages: string[] = [];
  for (const g of names) {
    const rows = groups[g]!;
    for (const x of rows) {
      const removed = x.rejected + x.errored;
      if (!removed) continue;
      if (!stages.includes(x.stage)) stages.push(x.stage);
      values.push({ group: g, outcome: `removed by ${x.stage}`, docs: removed });
    }
    values.push({ group: g, outcome: 'kept', docs: rows[rows.length - 1]?.kept ?? 0 });
  }
  const order = ['kept', ...groups[names[0]!]!.map((x) => x.stage).filter((st) => stages.includes(st)).map((st) => `removed by ${st}`)];
  return {
    ...base(title, values),
    height: { step: 18 },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'group', type: 'nominal', title: null, sort: '-x' },
      x: { field: 'docs', type: 'quantitative', title: 'documents', stack: 'zero' },
      color: { field: 'outcome', type: 'nominal', title: null, sort: order, legend: { orient: 'bottom', columns: 3 }, scale: { domain: order, range: ['#4c78a8', '#e45756', '#f58518', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac', '#72b7b2', '#54a24b', '#d67195', '#fc8d62', '#8da0cb', '#a6d854', '#ffd92f', '#e5c494', '#b3b3b3'] } },
      order: { field: 'outcome', sort: 'ascending' },
    },
  } as TopLevelSpec;
}

/** 1, 10, 100 ... within [lo, hi], for the ticks of a log axis. */
function powersOfTen(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let p = 1; p <= hi; p *= 10) if (p >= lo) out.push(p);
  return out;
}

/** A histogram of a measurement, kept and rejected stacked, with each threshold as a vertical line. */
function histogramChart(h: RunReport['histograms'][string]): TopLevelSpec {
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

/** Every chart the report's data supports, in page order. */
export function chartSpecs(r: RunReport): { section: keyof RunReport; spec: TopLevelSpec }[] {
  const out: { section: keyof RunReport; spec: TopLevelSpec }[] = [];
  if (r.funnel.available && r.funnel.stages.length) {
    const order = r.funnel.stages.map((s) => s.name);
    const values = r.funnel.stages.flatMap((s) => [
      { stage: s.name, outcome: 'kept', docs: s.kept },
      { stage: s.name, outcome: 'rejected', docs: s.rejected },
      { stage: s.name, outcome: 'errored', docs: s.errored },
    ]);
    out.push({
      section: 'funnel',
      spec: {
        ...base('Documents per stage: kept, rejected, errored', values),
        mark: { type: 'bar', tooltip: true },
        encoding: {
          y: { field: 'stage', type: 'nominal', sort: order, title: null },
          x: { field: 'docs', type: 'quantitative', title: 'documents', stack: 'zero' },
          color: { field: 'outcome', type: 'nominal', scale: { domain: ['kept', 'rejected', 'errored'], range: ['#4c78a8', '#e45756', '#b279a2'] } },
          order: { field: 'outcome', sort: 'descending' },
        },
      } as TopLevelSpec,
    });
    if (r.funnel.rules.length) {
      const rules = r.funnel.rules.slice(0, TOP).map((x) => ({ rule: `${x.stage}:${x.rule}`, docs: x.docs }));
      out.push({ section: 'funnel', spec: hbar(`Documents removed per rule${r.funnel.rules.length > TOP ? ` (top ${TOP})` : ''}`, rules, 'rule', 'docs', 'documents') });
    }
  }
  const bySource = groupFunnelChart('Where each source\'s documents went', r.funnel_by_source);
  if (bySource) out.push({ section: 'funnel_by_source', spec: bySource });
  const byLanguage = groupFunnelChart('Where each language\'s documents went', r.funnel_by_language);
  if (byLanguage) out.push({ section: 'funnel_by_language', spec: byLanguage });
  for (const h of Object.values(r.histograms)) {
    if (h.thresholds.length || (isScoreField(h.field) && !h.field.includes('.'))) out.push({ section: 'histograms', spec: histogramChart(h) });
  }
  if (r.dedup.available) {
    for (const s of r.dedup.stages) {
      if (!s.histogram.length) continue;
      const order = s.histogram.map((h) => h.size);
      out.push({
        section: 'dedup',
        spec: {
          ...base(`${s.stage}: duplicate clusters by size`, s.histogram),
          height: { step: 22 },
          mark: { type: 'bar', tooltip: true },
          encoding: {
            y: { field: 'size', type: 'ordinal', sort: order, title: 'cluster size' },
            x: { field: 'clusters', type: 'quantitative', title: 'clusters', axis: { tickMinStep: 1, format: 'd' } },
          },
        } as TopLevelSpec,
      });
    }
  }
  if (r.languages.available) {
    for (const kind of ['natural', 'programming'] as const) {
      const rows = r.languages.rows.filter((x) => x.kind === kind);
      if (!rows.length) continue;
      const what = kind === 'natural' ? 'language' : 'programming language';
      out.push({ section: 'languages', spec: hbar(`Tokens per ${what}${rows.length > TOP ? ` (top ${TOP})` : ''}`, rows.slice(0, TOP).map((x) => ({ name: x.name, tokens: x.tokens })), 'name', 'tokens', 'tokens') });
    }
  }
  if (r.quality_scores.available) {
    for (const f of r.quality_scores.fields) {
      out.push({
        section: 'quality_scores',
        spec: {
          ...base(`${f.field}: documents per score`, f.bins),
          mark: { type: 'bar', tooltip: true },
          encoding: {
            x: { field: 'from', type: 'quantitative', bin: { binned: true }, title: f.field },
            x2: { field: 'to' },
            y: { field: 'docs', type: 'quantitative', title: 'documents' },
          },
        } as TopLevelSpec,
      });
    }
  }
  if (r.buckets.available && r.buckets.rows.length) {
    const rows = [...r.buckets.rows]
      .sort((a, b) => b.tokens - a.tokens)
      .slice(0, TOP)
      .map((b) => ({ bucket: `${b.source} / ${b.language} / ${b.quality_band}`, category: b.category, tokens: b.tokens }));
    out.push({ section: 'buckets', spec: hbar(`Tokens per bucket${r.buckets.rows.length > TOP ? ` (top ${TOP})` : ''}`, rows, 'bucket', 'tokens', 'tokens', 'category') });
  }
  if (r.shares.available) {
    const values = r.shares.rows.flatMap((s) => [
      { category: s.name, series: 'natural', share: s.natural },
      { category: s.name, series: 'planned', share: s.planned },
      ...(s.achieved !== undefined ? [{ category: s.name, series: 'achieved', share: s.achieved }] : []),
    ]);
    const bars = groupedRows('Share of tokens: natural, planned, achieved; target range as a black line, misses marked', values, 'category', 'series', ['natural', 'planned', 'achieved'], 'share', 'share of tokens', '.0%') as TopLevelSpec & { mark: unknown; encoding: unknown };
    const ranges = r.shares.rows.filter((x) => x.min !== undefined || x.max !== undefined).map((x) => ({ category: x.name, min: x.min ?? 0, max: x.max ?? 1 }));
    const misses = r.shares.rows.filter(shareMissed).map((x) => ({ category: x.name, share: x.achieved!, label: 'miss' }));
    const { mark, encoding, data, ...top } = bars as unknown as Record<string, unknown>;
    out.push({
      section: 'shares',
      spec: {
        ...top,
        layer: [
          { data, mark, encoding },
          ...(ranges.length ? [{ data: { values: ranges }, mark: { type: 'rule', color: '#111', strokeWidth: 2 }, encoding: { y: { field: 'category', type: 'nominal' }, x: { field: 'min', type: 'quantitative' }, x2: { field: 'max' } } }] : []),
          ...(misses.length ? [{ data: { values: misses }, mark: { type: 'text', color: '#d62728', align: 'left', dx: 4, fontWeight: 'bold' }, encoding: { y: { field: 'category', type: 'nominal' }, x: { field: 'share', type: 'quantitative' }, text: { field: 'label' } } }] : []),
        ],
      } as TopLevelSpec,
    });
  }
  if (r.epochs.available) {
    const values = r.epochs.rows.flatMap((s) => [
      { source: s.source, series: 'planned', epochs: s.planned_epochs },
      ...(s.achieved_epochs !== undefined ? [{ source: s.source, series: 'achieved', epochs: s.achieved_epochs }] : []),
    ]);
    out.push({ section: 'epochs', spec: groupedRows('Epochs per source (tokens drawn / tokens available)', values, 'source', 'series', ['planned', 'achieved'], 'epochs', 'epochs') });
  }
  return out;
}

export async function renderCharts(r: RunReport): Promise<Chart[]> {
  const charts: Chart[] = [];
  for (const { section, spec } of chartSpecs(r)) charts.push({ section, title: String(spec.title ?? ''), svg: await renderSvg(spec) });
  return charts;
}
