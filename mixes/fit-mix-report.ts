/**
 * `mix fit --report <dir>`: report.html, a self-contained page, with the proxy runs against the
 * proposal: each run's measured loss against its distance from the proposed mix, the proposal's
 * predicted loss at distance 0, and the evidence radius; then the proposed shares beside the best
 * run's. Charts are Vega-Lite rendered to SVG as the run report's are (mixes/report/charts.ts).
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../pipeline/io/atomic.ts';
import type { FitResult } from './fit-mix.ts';
import { tvDistance } from './regmix-evidence.ts';
import { renderSvg } from './report/charts.ts';
import { escapeHtml } from './report/html.ts';
import type { ProxyRuns } from './runs-csv.ts';

const CONFIG = { view: { stroke: null }, font: 'sans-serif', axis: { labelLimit: 0 }, legend: { labelLimit: 0 } };

export function fitChartSpecs(fit: FitResult, runs: ProxyRuns, y: readonly number[]): { spec: TopLevelSpec; caption: string }[] {
  const proposed = fit.domains.map((d) => fit.proposal.weights[d]!);
  const points = runs.weights.map((w, i) => ({ line: runs.lines[i]!, distance: tvDistance(w, proposed), loss: y[i]! }));
  const proposal = [{ distance: 0, loss: fit.proposal.predicted_loss }];
  const radius = [{ distance: fit.evidence.radius }];
  const shares = fit.domains.flatMap((d) => [
    { domain: d, mix: 'proposed', share: fit.proposal.weights[d]! },
    { domain: d, mix: 'best run', share: fit.best_run.weights[d]! },
  ]);
  return [
    {
      caption: `Each proxy run's measured ${fit.target} against its distance (total variation) from the proposed mix; the diamond is the proposal's predicted loss (${fit.model.kind}), the dashed line the evidence radius (${fit.evidence.radius.toFixed(3)}: ${Math.round(fit.evidence.quantile * 100)}% of runs are this close to another run). A proposal far from every run, or predicted far below every run, is an extrapolation.`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'the proxy runs against the proposal',
        width: 560,
        height: 300,
        config: CONFIG,
        layer: [
          { data: { values: points }, mark: { type: 'point', filled: true, size: 25, color: '#4c78a8', tooltip: true }, encoding: { x: { field: 'distance', type: 'quantitative', title: 'distance from the proposed mix (total variation)', scale: { domain: [0, 1] } }, y: { field: 'loss', type: 'quantitative', title: fit.target, scale: { zero: false } } } },
          { data: { values: radius }, mark: { type: 'rule', strokeDash: [4, 3], color: '#111' }, encoding: { x: { field: 'distance', type: 'quantitative' } } },
          { data: { values: proposal }, mark: { type: 'point', shape: 'diamond', size: 140, filled: true, color: '#e45756' }, encoding: { x: { field: 'distance', type: 'quantitative' }, y: { field: 'loss', type: 'quantitative' } } },
        ],
      } as TopLevelSpec,
    },
    {
      caption: `The proposed shares beside those of the best run measured (line ${fit.best_run.line}, ${fit.target} ${fit.best_run.loss.toFixed(4)}).`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: 'proposed mix and best run',
        width: 560,
        config: CONFIG,
        data: { values: shares },
        mark: { type: 'bar', tooltip: true },
        encoding: {
          y: { field: 'domain', type: 'nominal', title: null },
          yOffset: { field: 'mix', type: 'nominal' },
          x: { field: 'share', type: 'quantitative', title: 'share', axis: { format: '%' } },
          color: { field: 'mix', type: 'nominal', title: null, scale: { domain: ['proposed', 'best run'], range: ['#e45756', '#4c78a8'] } },
        },
      } as TopLevelSpec,
    },
  ];
}

export async function writeFitReport(fit: FitResult, runs: ProxyRuns, y: readonly number[], file: string, outDir: string): Promise<string> {
  const charts = fitChartSpecs(fit, runs, y);
  const svgs = await Promise.all(charts.map((c) => renderSvg(c.spec)));
  const rows = fit.compared.map((m) => `<tr><td>${escapeHtml(m.kind)}${m.kind === fit.model.kind ? ' (chosen)' : ''}</td><td class="n">${m.r2.toFixed(4)}</td><td class="n">${m.cv_rmse.toPrecision(4)}</td><td class="n">${m.cv_spearman.toFixed(4)}</td></tr>`).join('\n');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Mix fit: ${escapeHtml(file)}</title>
<style>body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:980px;padding:0 1rem;color:#222}h1{font-size:1.5rem}figure{margin:1.5rem 0}figure svg{max-width:100%;height:auto}.note{color:#555}table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ddd;padding:.2rem .5rem}td.n{text-align:right;font-variant-numeric:tabular-nums}</style>
</head>
<body>
<h1>Mix fit: ${escapeHtml(file)}</h1>
<p class="note">${fit.runs} proxy runs, target ${escapeHtml(fit.target)}; search: ${fit.proposal.search}; the proposal is ${fit.evidence.distance.toFixed(3)} from the nearest run (radius ${fit.evidence.radius.toFixed(3)}).</p>
${fit.warnings.map((w) => `<p class="note">Warning: ${escapeHtml(w)}</p>`).join('\n')}
<table><thead><tr><th>model</th><th>R²</th><th>CV RMSE</th><th>CV Spearman</th></tr></thead>
<tbody>
${rows}
</tbody></table>
${svgs.map((svg, i) => `<figure class="chart">${svg}<figcaption class="note">${escapeHtml(charts[i]!.caption)}</figcaption></figure>`).join('\n')}
</body>
</html>
`;
  const path = join(outDir, 'report.html');
  await writeFileAtomic(path, html);
  return path;
}
