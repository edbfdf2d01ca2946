/**
 * The report's charts: Vega-Lite specs compiled and rendered to SVG strings at build time with
 * Vega's headless view (no canvas, no browser, no network), so report.html needs no script.
 */
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { RunReport } from './data.ts';

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
    config: { view: { stroke: null }, font: 'sans-serif', axis: { labelLimit: 260 } },
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

function grouped(title: string, values: Row[], group: string, series: string, order: string[], value: string, valueTitle: string, format = ''): TopLevelSpec {
  return {
    ...base(title, values),
    mark: { type: 'bar', tooltip: true },
    encoding: {
      x: { field: group, type: 'nominal', title: null, axis: { labelAngle: 0 } },
      xOffset: { field: series, type: 'nominal', sort: order },
      y: { field: value, type: 'quantitative', title: valueTitle, ...(format ? { axis: { format } } : {}) },
      color: { field: series, type: 'nominal', title: null, sort: order, scale: { domain: order, range: ['#9ecae9', '#4c78a8', '#f58518'].slice(3 - order.length) } },
    },
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
  if (r.dedup.available) {
    for (const s of r.dedup.stages) {
      if (!s.histogram.length) continue;
      const order = s.histogram.map((h) => h.size);
      out.push({
        section: 'dedup',
        spec: {
          ...base(`${s.stage}: duplicate clusters by size`, s.histogram),
          mark: { type: 'bar', tooltip: true },
          encoding: {
            x: { field: 'size', type: 'ordinal', sort: order, title: 'documents in the cluster', axis: { labelAngle: 0 } },
            y: { field: 'clusters', type: 'quantitative', title: 'clusters', scale: { type: 'symlog' } },
          },
        } as TopLevelSpec,
      });
    }
  }
  if (r.languages.available && r.languages.rows.length) {
    out.push({ section: 'languages', spec: hbar(`Tokens per language${r.languages.rows.length > TOP ? ` (top ${TOP})` : ''}`, r.languages.rows.slice(0, TOP), 'name', 'tokens', 'tokens') });
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
    out.push({ section: 'shares', spec: grouped('Share of tokens: natural, planned, achieved', values, 'category', 'series', ['natural', 'planned', 'achieved'], 'share', 'share of tokens', '.0%') });
  }
  if (r.epochs.available) {
    const values = r.epochs.rows.flatMap((s) => [
      { source: s.source, series: 'planned', epochs: s.planned_epochs },
      ...(s.achieved_epochs !== undefined ? [{ source: s.source, series: 'achieved', epochs: s.achieved_epochs }] : []),
    ]);
    out.push({ section: 'epochs', spec: grouped('Epochs per source (tokens drawn / tokens available)', values, 'source', 'series', ['planned', 'achieved'], 'epochs', 'epochs') });
  }
  return out;
}

export async function renderCharts(r: RunReport): Promise<Chart[]> {
  const charts: Chart[] = [];
  for (const { section, spec } of chartSpecs(r)) charts.push({ section, title: String(spec.title ?? ''), svg: await renderSvg(spec) });
  return charts;
}
