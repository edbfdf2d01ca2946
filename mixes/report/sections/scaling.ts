/**
 * Scaling laws: when the run folder holds the evidence its mix was chosen by, `scaling/fit.json`
 * (written by `refinery mix scale <runs.csv> -o`) and the `scaling/runs.csv` it was fitted on, the
 * law with its intervals and the charts `mix scale --report` draws: loss against compute with the
 * fitted frontier and its interval, the compute-optimal model size, predicted accuracy at the
 * target, the mixes across scales. A curation run trains no model, so `refinery run` never writes
 * them; they are found as plan.json is, in the run folder.
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { readRunText } from '../../../pipeline/run-folder/files.ts';
import { scaleChartSpecs } from '../../scaling/scale-report.ts';
import { parseScalingRuns, type ScalingRuns } from '../../scaling/scaling-runs-csv.ts';
import type { ScaleResult } from '../../scaling/scale-fit.ts';
import { readJsonIf } from '../run-files.ts';
import { availableText, missing, table, type Missing, type ReportSection } from '../section.ts';

export const SCALING_FIT = join('scaling', 'fit.json');
export const SCALING_RUNS = join('scaling', 'runs.csv');

export interface ScalingSection {
  available: true;
  /** The fit as `mix scale` wrote it. */
  fit: ScaleResult;
  /** The runs it was fitted on, when the folder holds them (the charts need their points). */
  runs?: ScalingRuns;
}

function isScaleResult(v: unknown): v is ScaleResult {
  const f = v as Partial<ScaleResult> | undefined;
  return typeof f === 'object' && f !== null && f.version === 1 && typeof f.law === 'object' && Array.isArray(f.frontier) && Array.isArray(f.residuals);
}

const PARAMETERS = ['E', 'A', 'B', 'alpha', 'beta'] as const;

export const scalingSection: ReportSection<'scaling', ScalingSection | Missing> = {
  key: 'scaling',
  title: 'Scaling laws',

  async collect({ runDir, files }) {
    const fit = await readJsonIf(join(runDir, SCALING_FIT), files);
    if (!isScaleResult(fit)) return missing(`not run: no ${SCALING_FIT} (refinery mix scale <runs.csv> -o ${SCALING_FIT}) in the run folder`);
    const runsPath = join(runDir, SCALING_RUNS);
    const runs = (await files.need(runsPath)) ? parseScalingRuns(await readRunText(files, runsPath), runsPath) : undefined;
    return { available: true, fit, ...(runs ? { runs } : {}) };
  },

  text: (data) =>
    availableText(data, ({ fit, runs }) => ({
      notes: [
        `${fit.runs} training runs, target ${fit.target}: ${fit.form}; ${Math.round(fit.intervals.level * 100)}% intervals from ${fit.intervals.bootstrap} bootstrap fits (seed ${fit.intervals.seed}).`,
        ...fit.warnings.map((w) => `Warning: ${w}`),
        ...(fit.compute_optimal ? [`At ${fit.compute_optimal.compute.toPrecision(3)} FLOPs the compute-optimal model has ${fit.compute_optimal.params.toPrecision(3)} parameters, trains on ${fit.compute_optimal.tokens.toPrecision(3)} tokens and reaches a ${fit.target} of ${fit.compute_optimal.loss.toFixed(4)}.`] : []),
        ...(runs ? [] : [`No ${SCALING_RUNS} beside the fit: the charts need the runs' points.`]),
      ],
      tables: [table(['parameter', 'estimate', 'interval'], PARAMETERS.map((p) => [p, fit.law[p].toPrecision(4), `${fit.intervals[p][0].toPrecision(4)} – ${fit.intervals[p][1].toPrecision(4)}`]))],
    })),

  charts: (data): TopLevelSpec[] => (data.available && data.runs ? scaleChartSpecs(data.fit, data.runs).map((c) => ({ ...c.spec, description: c.caption }) as TopLevelSpec) : []),
};
