/**
 * `mix scale --report <dir>`: report.html, a self-contained page (inline SVG, no script, nothing
 * fetched) with the runs against compute and the fitted law's compute-optimal frontier and its
 * interval, the compute-optimal model size, each benchmark's accuracy against NLL with the
 * prediction at the target, and the mixes ranked at the target. Charts are Vega-Lite rendered to
 * SVG as the run report's are (mixes/report/charts.ts).
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFileAtomic } from '../../pipeline/io/atomic.ts';
import { renderSvg } from '../report/charts.ts';
import { escapeHtml } from '../report/html.ts';
import { sigmoidAccuracy } from './downstream-fit.ts';
import type { ScaleResult } from './scale-fit.ts';
import type { ScalingRuns } from './scaling-runs-csv.ts';

type Row = Record<string, string | number>;

const WIDTH = 560;
const CONFIG = { view: { stroke: null }, font: 'sans-serif', axis: { labelLimit: 0 }, legend: { labelLimit: 0 } };

function layered(title: string, layer: unknown[]): TopLevelSpec {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, width: WIDTH, height: 300, config: CONFIG, layer } as TopLevelSpec;
}

/** 10^k within [lo, hi]: the ticks (and grid lines) of a log axis. */
function powersOfTen(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let k = Math.ceil(Math.log10(lo)); k <= Math.floor(Math.log10(hi)); k++) out.push(10 ** k);
  return out;
}

export interface ScaleChart {
  spec: TopLevelSpec;
  /** What the chart shows, under it. */
  caption: string;
}

/** Every chart the fit supports, in page order. */
export function scaleChartSpecs(fit: ScaleResult, runs: ScalingRuns): ScaleChart[] {
  const specs: ScaleChart[] = [];
  const computes = [...fit.frontier.map((f) => f.compute), ...fit.residuals.map((r) => 6 * r.params * r.tokens)];
  const ticks = powersOfTen(Math.min(...computes), Math.max(...computes));
  const logX = (field: string, title: string) => ({ field, type: 'quantitative', title, scale: { type: 'log' }, axis: { values: ticks, format: '.0e' } });
  const points: Row[] = fit.residuals.map((r) => ({ run: r.run, compute: 6 * r.params * r.tokens, loss: r.loss, params: r.params }));
  const frontier: Row[] = fit.frontier.map((f) => ({ compute: f.compute, loss: f.loss, lo: f.loss_interval[0], hi: f.loss_interval[1], params: f.params, plo: f.params_interval[0], phi: f.params_interval[1] }));
  const co = fit.compute_optimal;
  const target: Row[] = co ? [{ compute: co.compute, loss: co.loss, lo: co.intervals.loss[0], hi: co.intervals.loss[1], params: co.params, plo: co.intervals.params[0], phi: co.intervals.params[1] }] : [];
  const interval = `${Math.round(fit.intervals.level * 100)}% interval`;
  specs.push(
    { caption: `Each run's ${fit.target} (colour: its parameters); the line is the loss of the compute-optimal model of the fitted law at each compute, the band its ${interval} over the bootstrap fits${co ? `; the diamond is the target, ${co.compute.toPrecision(3)} FLOPs, with its interval` : ''}.`, spec: layered(`${fit.target} against training compute`, [
      { data: { values: frontier }, mark: { type: 'area', opacity: 0.25, color: '#4c78a8' }, encoding: { x: logX('compute', 'training compute (FLOPs, log scale)'), y: { field: 'lo', type: 'quantitative', title: fit.target, scale: { zero: false } }, y2: { field: 'hi' } } },
      { data: { values: frontier }, mark: { type: 'line', color: '#4c78a8' }, encoding: { x: logX('compute', 'training compute (FLOPs, log scale)'), y: { field: 'loss', type: 'quantitative' } } },
      { data: { values: points }, mark: { type: 'point', filled: true, size: 30, tooltip: true }, encoding: { x: logX('compute', 'training compute (FLOPs, log scale)'), y: { field: 'loss', type: 'quantitative' }, color: { field: 'params', type: 'quantitative', title: 'params', scale: { type: 'log', scheme: 'viridis' }, legend: { format: '.1s' } } } },
      ...(target.length
        ? [
            { data: { values: target }, mark: { type: 'rule', color: '#e45756', strokeWidth: 2 }, encoding: { x: logX('compute', 'training compute (FLOPs, log scale)'), y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
            { data: { values: target }, mark: { type: 'point', shape: 'diamond', size: 120, filled: true, color: '#e45756' }, encoding: { x: logX('compute', 'training compute (FLOPs, log scale)'), y: { field: 'loss', type: 'quantitative' } } },
          ]
        : []),
    ]) },
    { caption: `Parameters of the compute-optimal model at each compute (C = 6·N·D), band: ${interval}.`, spec: layered('compute-optimal model size against compute', [
      { data: { values: frontier }, mark: { type: 'area', opacity: 0.25, color: '#54a24b' }, encoding: { x: logX('compute', 'training compute (FLOPs, log scale)'), y: { field: 'plo', type: 'quantitative', title: 'parameters (log scale)', scale: { type: 'log' }, axis: { values: powersOfTen(Math.min(...fit.frontier.map((f) => f.params_interval[0])) / 10, Math.max(...fit.frontier.map((f) => f.params_interval[1])) * 10), format: '.0s' } }, y2: { field: 'phi' } } },
      { data: { values: frontier }, mark: { type: 'line', color: '#54a24b' }, encoding: { x: logX('compute', 'training compute (FLOPs, log scale)'), y: { field: 'params', type: 'quantitative' } } },
      ...(target.length ? [{ data: { values: target }, mark: { type: 'point', shape: 'diamond', size: 120, filled: true, color: '#e45756' }, encoding: { x: logX('compute', 'training compute (FLOPs, log scale)'), y: { field: 'params', type: 'quantitative' } } }] : []),
    ]) },
  );
  for (const [task, d] of Object.entries(fit.downstream ?? {})) {
    const taskRuns: Row[] = runs.runs.map((r) => ({ run: r.name, nll: r.nll[task]!, acc: r.acc[task]! }));
    const nlls = [...runs.runs.map((r) => r.nll[task]!), d.nll];
    const lo = Math.min(...nlls);
    const hi = Math.max(...nlls);
    const curve: Row[] = Array.from({ length: 60 }, (_, k) => lo + ((hi - lo) * k) / 59).map((nll) => ({ nll, acc: sigmoidAccuracy(d.sigmoid, nll) }));
    const at: Row[] = [{ nll: d.nll, acc: d.accuracy, lo: d.intervals.accuracy[0], hi: d.intervals.accuracy[1] }];
    specs.push({
      caption: `Each run's ${task} accuracy against its NLL on the task, the fitted sigmoid, and the prediction at ${d.compute.toPrecision(3)} FLOPs (${d.extrapolation.toPrecision(3)}× the largest run): NLL from the power law of the ${d.frontier_runs} compute-optimal runs, accuracy ${d.accuracy.toFixed(3)} (${interval} ${d.intervals.accuracy[0].toFixed(3)}–${d.intervals.accuracy[1].toFixed(3)}).`,
      spec: layered(`${task}: accuracy against NLL`, [
        { data: { values: curve }, mark: { type: 'line', color: '#4c78a8' }, encoding: { x: { field: 'nll', type: 'quantitative', title: `${task} NLL`, scale: { zero: false } }, y: { field: 'acc', type: 'quantitative', title: 'accuracy' } } },
        { data: { values: taskRuns }, mark: { type: 'point', filled: true, size: 30, tooltip: true, color: '#333' }, encoding: { x: { field: 'nll', type: 'quantitative' }, y: { field: 'acc', type: 'quantitative' } } },
        { data: { values: at }, mark: { type: 'rule', color: '#e45756', strokeWidth: 2 }, encoding: { x: { field: 'nll', type: 'quantitative' }, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' } } },
        { data: { values: at }, mark: { type: 'point', shape: 'diamond', size: 120, filled: true, color: '#e45756' }, encoding: { x: { field: 'nll', type: 'quantitative' }, y: { field: 'acc', type: 'quantitative' } } },
      ]),
    });
  }
  const t = fit.mixes?.target;
  if (t) {
    const ranked: Row[] = t.ranked.slice(0, 20).map((m) => ({ run: m.run, loss: m.predicted_loss, verdict: m === t.ranked.find((x) => x.run === t.best?.run) ? 'best within the bounds' : m.within_bounds ? 'within the bounds' : 'outside the bounds' }));
    specs.push({ caption: `The ${ranked.length} mixes with the lowest predicted ${fit.target} at ${t.compute.toPrecision(3)} FLOPs, from one law per mix with shared exponents; only measured mixes are ranked.`, spec: {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `mixes ranked at the target`,
      width: WIDTH,
      config: CONFIG,
      data: { values: ranked },
      mark: { type: 'point', filled: true, size: 90, tooltip: true },
      encoding: {
        y: { field: 'run', type: 'nominal', sort: { field: 'loss', order: 'ascending' }, title: 'mix (its first run)' },
        x: { field: 'loss', type: 'quantitative', title: `predicted ${fit.target}`, scale: { zero: false } },
        color: { field: 'verdict', type: 'nominal', title: null, scale: { domain: ['best within the bounds', 'within the bounds', 'outside the bounds'], range: ['#54a24b', '#4c78a8', '#bab0ac'] } },
      },
    } as TopLevelSpec });
  }
  return specs;
}

const STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:980px;padding:0 1rem;color:#222}
h1{font-size:1.5rem}figure{margin:1.5rem 0}figure svg{max-width:100%;height:auto}.note{color:#555}
table{border-collapse:collapse;font-size:13px}th,td{border:1px solid #ddd;padding:.2rem .5rem}td.n{text-align:right;font-variant-numeric:tabular-nums}`;

export async function writeScaleReport(fit: ScaleResult, runs: ScalingRuns, outDir: string): Promise<string> {
  const charts = scaleChartSpecs(fit, runs);
  const svgs = await Promise.all(charts.map((c) => renderSvg(c.spec)));
  const law = fit.law;
  const rows = (['E', 'A', 'B', 'alpha', 'beta'] as const)
    .map((p) => `<tr><td>${p}</td><td class="n">${law[p].toPrecision(4)}</td><td class="n">${fit.intervals[p][0].toPrecision(4)} – ${fit.intervals[p][1].toPrecision(4)}</td></tr>`)
    .join('\n');
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Scaling report: ${escapeHtml(runs.file)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Scaling report: ${escapeHtml(runs.file)}</h1>
<p class="note">${fit.runs} runs, target ${escapeHtml(fit.target)}: ${escapeHtml(fit.form)}; ${Math.round(fit.intervals.level * 100)}% intervals from ${fit.intervals.bootstrap} bootstrap fits (seed ${fit.intervals.seed}).</p>
${fit.warnings.map((w) => `<p class="note">Warning: ${escapeHtml(w)}</p>`).join('\n')}
<table><thead><tr><th>parameter</th><th>estimate</th><th>interval</th></tr></thead>
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
