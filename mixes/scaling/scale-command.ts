/** CLI: refinery mix scale <runs.csv> [--compute C] [--predict runs.csv] [-o fit.json]. */
import { InvalidArgumentError, type Command } from 'commander';
import { positiveInt, wholeNumber } from '../../pipeline/cli/arguments.ts';
import { stableJson, writeFileAtomic } from '../../pipeline/io/atomic.ts';
import { readCensus } from '../census.ts';
import { loadMixConfig } from '../mix-config.ts';
import { formatTokens, pct } from '../planner.ts';
import { predictLaw, type Interval } from './law-fit.ts';
import { fitScaling, type ScaleResult } from './scale-fit.ts';
import { writeScaleReport } from './scale-report.ts';
import { readScalingRuns } from './scaling-runs-csv.ts';

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a number above 0, e.g. 5.76e23');
  return n;
}

function level(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || n >= 1) throw new InvalidArgumentError('expected a coverage between 0 and 1, e.g. 0.95');
  return n;
}

const g4 = (x: number) => x.toPrecision(4);
const range = ([lo, hi]: Interval, f: (x: number) => string) => `${f(lo)} – ${f(hi)}`;

export function scaleSummary(fit: ScaleResult): string {
  const pctLevel = `${Math.round(fit.intervals.level * 100)}%`;
  const out = [
    `${fit.runs} runs, target ${fit.target}: ${fit.form}`,
    `Huber loss (delta ${fit.objective.huber_delta}) on log loss, L-BFGS from ${fit.objective.starts} starts (${fit.objective.starts_at_best} reach the best objective, ${fit.objective.value.toPrecision(6)})`,
    '',
    `parameter   estimate    ${pctLevel} interval (${fit.intervals.bootstrap} bootstrap fits, seed ${fit.intervals.seed})`,
  ];
  for (const p of ['E', 'A', 'B', 'alpha', 'beta'] as const) out.push(`  ${p.padEnd(9)}${g4(fit.law[p]).padStart(10)}    ${range(fit.intervals[p], g4)}`);
  const worst = fit.residuals.reduce((a, r) => (Math.abs(r.residual) > Math.abs(a.residual) ? r : a));
  out.push('', `residuals (loss − fit): RMSE ${fit.fit_quality.rmse.toPrecision(3)}, largest ${worst.residual.toPrecision(3)} (run ${worst.run}, line ${worst.line})`);
  const co = fit.compute_optimal;
  if (co) {
    out.push(
      '',
      `compute-optimal at ${co.compute.toPrecision(3)} FLOPs (${co.extrapolation.toPrecision(3)}× the largest run):`,
      `  params ${formatTokens(co.params).padStart(8)}    ${range(co.intervals.params, formatTokens)}`,
      `  tokens ${formatTokens(co.tokens).padStart(8)}    ${range(co.intervals.tokens, formatTokens)}`,
      `  loss   ${co.loss.toFixed(4).padStart(8)}    ${range(co.intervals.loss, (x) => x.toFixed(4))}`,
    );
  }
  for (const [task, d] of Object.entries(fit.downstream ?? {})) {
    out.push(
      '',
      `${task} at ${d.compute.toPrecision(3)} FLOPs (${d.extrapolation.toPrecision(3)}× the largest run; NLL from ${d.frontier_runs} compute-optimal runs, accuracy from a sigmoid in NLL):`,
      `  NLL      ${d.nll.toFixed(4).padStart(8)}    ${range(d.intervals.nll, (x) => x.toFixed(4))}`,
      `  accuracy ${d.accuracy.toFixed(4).padStart(8)}    ${range(d.intervals.accuracy, (x) => x.toFixed(4))}`,
    );
  }
  for (const w of fit.warnings) out.push(`warning: ${w}`);
  const m = fit.mixes;
  if (m) {
    out.push('', `${m.mixes} mixes over ${m.domains.length} domains; ranking from one size to the next (Spearman over the mixes trained at both):`);
    const size = (x: { params: number; tokens: number }) => `${formatTokens(x.params)} params × ${formatTokens(x.tokens)} tokens`;
    for (const s of m.steps) out.push(`  ${size(s.from)} → ${size(s.to)}: ${s.spearman.toFixed(4)} over ${s.mixes} mixes; best mix ${s.best_from === s.best_to ? `the same (run ${s.best_from})` : `changes (run ${s.best_from} → run ${s.best_to})`}`);
    if (m.steps.length === 0) out.push('  (no two sizes share 3 mixes)');
    const t = m.target;
    if (t) {
      out.push(`at ${t.compute.toPrecision(3)} FLOPs (${formatTokens(t.params)} params × ${formatTokens(t.tokens)} tokens), one law per mix with shared exponents${t.ranking_vs_largest === null ? '' : `; ranking against the largest size measured: Spearman ${t.ranking_vs_largest.toFixed(4)}`}:`);
      for (const x of t.ranked.slice(0, 5)) out.push(`  run ${x.run.padEnd(12)} predicted ${x.predicted_loss.toFixed(4)}${x.within_bounds ? '' : '  (outside the mix config bounds)'}`);
      out.push(t.best ? `best mix within the bounds: run ${t.best.run}: ${Object.entries(t.best.weights).filter(([, w]) => w > 0).map(([d, w]) => `${d} ${pct(w)}`).join(', ')}` : 'no measured mix is within the mix config bounds');
    }
  }
  return out.join('\n') + '\n';
}

export function registerScaleCommand(mix: Command): void {
  mix
    .command('scale')
    .description('Fit the loss law L(N, D) = E + A/N^alpha + B/D^beta to training runs; bootstrap intervals; compute-optimal model.')
    .argument('<runs.csv>', 'one row per training run: params, tokens (or flops), loss (or loss_<name> columns)')
    .option('-t, --target <name>', 'the loss column to fit: loss, or <name> of loss_<name> (default: the only one)')
    .option('--compute <flops>', 'give the compute-optimal params, tokens and loss at this training compute (C = 6·N·D)', positiveNumber)
    .option('--predict <runs.csv>', 'print the predicted loss of each row of this file (params, and tokens or flops)')
    .option('--bootstrap <n>', 'bootstrap refits for the intervals', positiveInt, 1000)
    .option('--level <p>', 'coverage of the intervals', level, 0.95)
    .option('--seed <n>', 'seed of the bootstrap resamples', wholeNumber(0), 0)
    .option('-c, --config <mix.yaml>', 'with w_<domain> columns: share bounds the best mix at --compute must meet')
    .option('--census <census.json>', 'with --config: caps each domain at max_epochs × its tokens')
    .option('-o, --output <fit.json>', 'where to write the law, intervals, compute-optimal model and residuals')
    .option('--report <dir>', 'write report.html there: the runs and the fitted frontier against compute, benchmark predictions, the mixes at the target')
    .action(async (runsPath: string, o: { target?: string; compute?: number; predict?: string; bootstrap: number; level: number; seed: number; config?: string; census?: string; output?: string; report?: string }) => {
      const runs = await readScalingRuns(runsPath);
      const config = o.config ? await loadMixConfig(o.config) : undefined;
      const census = o.census ? await readCensus(o.census) : undefined;
      const fit = fitScaling(runs, { target: o.target, compute: o.compute, bootstrap: o.bootstrap, level: o.level, seed: o.seed, config, census });
      let out = scaleSummary(fit);
      if (o.predict) {
        const rows = await readScalingRuns(o.predict, false);
        out += `\nPredicted ${fit.target} of ${o.predict}:\n` + rows.runs.map((r) => `  row ${r.line}: ${predictLaw(fit.law, r.params, r.tokens).toFixed(4)}\n`).join('');
      }
      if (o.output) {
        await writeFileAtomic(o.output, stableJson(fit));
        out += `Wrote ${o.output}\n`;
      }
      if (o.report) out += `Wrote ${await writeScaleReport(fit, runs, o.report)}\n`;
      process.stdout.write(out);
    });
}
