/** CLI: refinery mix census|plan|fit|scale and refinery report. */
import { readFile } from 'node:fs/promises';
import { Command, Option } from 'commander';
import { positiveInt, wholeNumber } from '../pipeline/cli/arguments.ts';
import { InputError } from '../pipeline/errors.ts';
import { stableJson, writeFileAtomic } from '../pipeline/io/atomic.ts';
import { buildCensus, censusDocuments, readCensus, type Census } from './census.ts';
import { cutPlan } from './sampler.ts';
import { loadMixConfig } from './mix-config.ts';
import { describeShares, formatTokens, MixInfeasibleError, pct, planMix, type MixPlan } from './planner.ts';
import { fitMix, targetValues } from './fit-mix.ts';
import { writeFitReport } from './fit-mix-report.ts';
import { CV_FOLDS, MODEL_KINDS, predictLoss, type ModelKind } from './regmix-model.ts';
import { readProxyRuns } from './runs-csv.ts';
import { registerScaleCommand } from './scaling/scale-command.ts';
import { writeRunReport } from './report/index.ts';
import { withRun } from '../pipeline/run-folder/open-run.ts';

function censusSummary(c: Census): string {
  const lines = [`${c.buckets.length} buckets, ${c.totals.docs} documents, ${formatTokens(c.totals.tokens)} tokens${c.estimated_docs ? ` (${c.estimated_docs} documents with estimated token counts)` : ''}`];
  for (const [cat, t] of Object.entries(c.totals.by_category).sort((a, b) => b[1] - a[1])) lines.push(`  ${cat.padEnd(16)} ${formatTokens(t).padStart(8)}  ${pct(t / c.totals.tokens)}`);
  return lines.join('\n') + '\n';
}

export function planSummary(plan: MixPlan): string {
  const lines = [`${plan.status === 'optimal' ? 'Plan' : 'Closest feasible plan'}: ${describeShares(plan)}`, '', 'category          natural  planned  target'];
  for (const [c, s] of Object.entries(plan.shares.category)) {
    const target = s.min !== undefined ? `${pct(s.min)}–${pct(s.max ?? 1)}` : '(free)';
    lines.push(`  ${c.padEnd(16)}${pct(s.natural).padStart(8)} ${pct(s.planned).padStart(8)}  ${target}`);
  }
  const ne = plan.shares.non_english;
  lines.push(`  ${'non-English'.padEnd(16)}${pct(ne.natural).padStart(8)} ${pct(ne.planned).padStart(8)}  ${pct(ne.min ?? 0)}–${pct(ne.max ?? 1)}`);
  const binding = plan.constraints.filter((c) => c.binding && c.shortfall_tokens === 0);
  if (binding.length) lines.push('', 'Binding constraints:', ...binding.map((c) => `  ${c.message}`));
  return lines.join('\n') + '\n';
}

export function registerMixCommands(program: Command): void {
  const mix = program.command('mix').description('Census, mix planning and mix selection from proxy runs.');

  mix
    .command('census')
    .description('Tokens and documents per bucket (source × category × language × quality band).')
    .argument('<inputs...>', 'manifest.json / census.json files, tokenized output folders, or document files and folders to count')
    .requiredOption('-o, --output <census.json>', 'where to write the census')
    .action(async (inputs: string[], o: { output: string }) => {
      const { census, errors } = await buildCensus(inputs);
      await writeFileAtomic(o.output, stableJson(census));
      process.stdout.write(censusSummary(census) + (errors ? `${errors} unreadable records skipped\n` : '') + `Wrote ${o.output}\n`);
    });

  mix
    .command('plan')
    .description('Solve the mix as a linear program: tokens and sampling rate per bucket.')
    .argument('<census.json>', 'census from `refinery mix census`')
    .requiredOption('-c, --config <mix.yaml>', 'the targets (see docs/mixes.md)')
    .requiredOption('-o, --output <plan.json>', 'where to write the plan')
    .option('--docs <inputs...>', "the documents to sample (default: the census's inputs): one pass sets each bucket's cut, so that it gets its planned tokens within one document")
    .option('--no-cut', 'no cut pass: each document draws its extra copy alone (planned tokens on average only)')
    .option('--seed <n>', 'seed of the hash order the cuts are made in (the tokenize stage samples with it)', wholeNumber(0), 0)
    .action(async (censusPath: string, o: { config: string; output: string; docs?: string[]; cut: boolean; seed: number }) => {
      const [census, config] = await Promise.all([readCensus(censusPath), loadMixConfig(o.config)]);
      try {
        let plan = await planMix(census, config);
        let note = '';
        if (o.cut && o.docs) {
          plan = await cutPlan(plan, censusDocuments(o.docs), o.seed);
        } else if (o.cut) {
          const inputs = (JSON.parse(await readFile(censusPath, 'utf8')) as { inputs?: string[] }).inputs ?? [];
          try {
            plan = await cutPlan(plan, censusDocuments(inputs), o.seed);
          } catch (e) {
            if (!(e instanceof InputError)) throw e;
            note = `No cut pass (${e.message}): each document draws its extra copy alone, so buckets get their planned tokens only on average; give the documents with --docs for exact per-bucket tokens.\n`;
            plan = { ...plan, sampling: { method: 'per_document', seed: o.seed, note: 'no documents to cut: --docs was not given and the census was taken from counts' } };
          }
        }
        await writeFileAtomic(o.output, stableJson(plan));
        process.stdout.write(planSummary(plan) + note + `Wrote ${o.output}\n`);
      } catch (e) {
        if (!(e instanceof MixInfeasibleError)) throw e;
        const closestPath = o.output.replace(/(\.json)?$/i, '.closest.json');
        await writeFileAtomic(closestPath, stableJson(e.closest));
        process.stdout.write(planSummary(e.closest) + `Wrote the closest feasible plan to ${closestPath} (not to ${o.output})\n`);
        throw e;
      }
    });

  mix
    .command('fit')
    .description('RegMix-style regression from proxy runs (mix weights → loss); proposes the best mix.')
    .argument('<runs.csv>', 'one row per proxy run: w_<domain> weight columns, loss_<name> loss columns')
    .option('-c, --config <mix.yaml>', 'constraints the proposal must meet (shares, tolerance, max_epochs)')
    .option('--census <census.json>', 'with --config: caps each domain at max_epochs × its tokens')
    .option('-t, --target <name>', 'the loss_<name> column to minimise (default: the mean of all)')
    .addOption(new Option('-m, --model <kind>', 'regression family (default: the one whose cross-validated predictions rank the runs best)').choices([...MODEL_KINDS]))
    .option('--candidates <n>', 'random candidate mixes to score', positiveInt, 20000)
    .option('--seed <n>', 'seed of the candidate search', wholeNumber(0), 0)
    .addOption(new Option('--search <where>', 'evidence: propose only near the proxy runs; simplex: anywhere in the bounds').choices(['evidence', 'simplex']).default('evidence'))
    .option('--predict <mixes.csv>', 'also print the predicted loss of these mixes (w_<domain> columns)')
    .option('-o, --output <fit.json>', 'where to write the fit and the proposal')
    .option('--report <dir>', 'write report.html there: the proxy runs against the proposal')
    .action(async (runsPath: string, o: { config?: string; census?: string; target?: string; model?: ModelKind; candidates: number; seed: number; search: 'evidence' | 'simplex'; predict?: string; output?: string; report?: string }) => {
      const runs = await readProxyRuns(runsPath);
      const config = o.config ? await loadMixConfig(o.config) : undefined;
      const census = o.census ? await readCensus(o.census) : undefined;
      const fit = fitMix(runs, { target: o.target, model: o.model, config, census, candidates: o.candidates, seed: o.seed, search: o.search });
      const out: string[] = [`${fit.runs} runs, target ${fit.target}; ${CV_FOLDS}-fold cross-validation`, 'model           R²      CV RMSE   CV Spearman'];
      for (const m of fit.compared) out.push(`  ${m.kind.padEnd(14)}${m.r2.toFixed(4).padStart(7)}  ${m.cv_rmse.toPrecision(4).padEnd(8)}  ${m.cv_spearman.toFixed(4)}${m.kind === fit.model.kind ? '  (chosen)' : ''}`);
      out.push('', 'domain          best run  proposed  bounds');
      for (const d of fit.domains) out.push(`  ${d.padEnd(14)}${pct(fit.best_run.weights[d]!).padStart(8)}  ${pct(fit.proposal.weights[d]!).padStart(8)}  ${pct(fit.bounds[d]!.min)}–${pct(fit.bounds[d]!.max)}`);
      out.push(`  ${'loss'.padEnd(14)}${fit.best_run.loss.toFixed(4).padStart(8)}  ${fit.proposal.predicted_loss.toFixed(4).padStart(8)}  (proposed: predicted)`);
      const ev = fit.evidence;
      out.push(`proposal: ${ev.distance.toFixed(3)} (total variation) from the nearest proxy run (line ${ev.nearest_run.line}); evidence radius ${ev.radius.toFixed(3)} (search: ${fit.proposal.search})`);
      for (const w of fit.warnings) out.push(`warning: ${w}`);
      if (o.predict) {
        const candidates = await readProxyRuns(o.predict, false);
        out.push('', `Predicted ${fit.target} of ${o.predict}:`);
        candidates.weights.forEach((w, i) => {
          const aligned = fit.domains.map((d) => w[candidates.domains.indexOf(d)] ?? 0);
          out.push(`  row ${i + 2}: ${predictLoss(fit.model, aligned).toFixed(4)}`);
        });
      }
      if (o.output) {
        await writeFileAtomic(o.output, stableJson(fit));
        out.push(`Wrote ${o.output}`);
      }
      if (o.report) out.push(`Wrote ${await writeFitReport(fit, runs, targetValues(runs, o.target).y, runsPath, o.report)}`);
      process.stdout.write(out.join('\n') + '\n');
    });

  registerScaleCommand(mix);

  program
    .command('report')
    .description('Write report.json, report.md and a self-contained report.html for a run folder.')
    .argument('<run dir>', 'output folder of `refinery run`, or its s3://bucket/prefix (stats.json, stats/, tokens/manifest.json, plan.json)')
    .requiredOption('-o, --output <dir>', 'folder for the report files')
    .action(async (runDir: string, o: { output: string }) => {
      // A folder or an s3:// prefix; a bucket run's files are fetched as the report reads them.
      await withRun(runDir, async (run) => {
        await run.files.need(`${run.dir}/stats.json`);
        await writeRunReport(run.dir, o.output, run.files);
      });
      process.stdout.write(`Wrote ${o.output}/report.json, report.md, report.html\n`);
    });
}
