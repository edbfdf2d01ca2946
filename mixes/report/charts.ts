/**
 * The report's charts: Vega-Lite specs compiled and rendered to SVG strings at build time with
 * Vega's headless view (no canvas, no browser, no network), so report.html needs no script. Vega
 * is imported when the first chart is drawn: the modules that only build specs (the sections,
 * which every task's tally imports) load nothing of it.
 */
import type { TopLevelSpec } from 'vega-lite';

export interface Chart {
  /** Section the chart belongs to (its key in report.json). */
  section: string;
  title: string;
  svg: string;
}

/** Renders one Vega-Lite spec to an SVG string. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  const [{ parse, View }, { compile }] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new View(parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Renders the charts of the sections, in page order. */
export async function renderCharts(specs: { section: string; spec: TopLevelSpec }[]): Promise<Chart[]> {
  const charts: Chart[] = [];
  for (const { section, spec } of specs) charts.push({ section, title: String(spec.title ?? ''), svg: await renderSvg(spec) });
  return charts;
}
