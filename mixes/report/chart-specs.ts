/** The report's chart helpers: Vega-Lite specs as plain objects (rendered by charts.ts). */
import type { TopLevelSpec } from 'vega-lite';

export const WIDTH = 560;
/** Bars shown of a long list (rules, languages, buckets). */
export const TOP = 30;

export type Row = Record<string, string | number>;

export function base(title: string, values: Row[]): Pick<TopLevelSpec, '$schema'> & { title: string; data: { values: Row[] }; width: number; config: Record<string, unknown> } {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title,
    data: { values },
    width: WIDTH,
    // labelLimit 0: long rule and bucket names are shown whole, never cut.
    config: { view: { stroke: null }, font: 'sans-serif', axis: { labelLimit: 0 }, legend: { labelLimit: 0 } },
  };
}

export function hbar(title: string, values: Row[], label: string, value: string, valueTitle: string, color?: string): TopLevelSpec {
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
export function groupedRows(title: string, values: Row[], group: string, series: string, order: string[], value: string, valueTitle: string, format = ''): TopLevelSpec {
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

