/**
 * `refinery calibrate <run>`: per-language thresholds from a finished run's documents (kept/ and
 * rejected/ of a folder or an s3:// run, whose meta holds what langid and the filters measured, also for the documents they
 * dropped). Each language is sampled (bottom-k of a hash of the id, so the sample does not depend
 * on file order) and gets: a language-ID threshold by FineWeb-2's rule, and for each filter
 * threshold of rules.ts the value that removes the same share of its documents as the run's
 * threshold removes of the reference language's (English). Written as `overrides` a pipeline
 * includes (`overrides_from:`), with, per language, the share each threshold removes against the
 * English default.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { join } from 'node:path';
import { hashString32 } from '../../pipeline/hash.ts';
import { InputError } from '../../pipeline/errors.ts';
import { folderFiles, type RunFiles } from '../../pipeline/run-folder/files.ts';
import { runRecords } from '../../mixes/run-records.ts';
import { lidThreshold, matchingThreshold, SortedValues, THRESHOLD_RULES, type ThresholdRule } from './rules.ts';

export interface CalibrateOptions {
  /** The language whose thresholds are the defaults the others are matched to. */
  reference: string;
  /** Fewer sampled documents than this: the language gets no calibrated value. */
  minDocs: number;
  /** Documents sampled per language. */
  sampleDocs: number;
}

/** A share of a language's sampled documents. */
const share = z.number().min(0).max(1);

const thresholdCalibration = z.object({
  stage: z.string(),
  option: z.string(),
  /** The run's value (the reference language's threshold). */
  default: z.number(),
  calibrated: z.number(),
  /** Shares of this language's sampled documents that each threshold removes. */
  removes_default: share,
  removes_calibrated: share,
  docs: z.number(),
});
export type ThresholdCalibration = z.infer<typeof thresholdCalibration>;

const languageCalibration = z.object({
  language: z.string(),
  docs: z.number(),
  lid: z.object({ docs: z.number(), median: z.number(), std: z.number(), default: z.number(), threshold: z.number(), removes_default: share, removes_calibrated: share }).nullable(),
  thresholds: z.array(thresholdCalibration),
});
export type LanguageCalibration = z.infer<typeof languageCalibration>;

/** What `refinery calibrate` measures of a run: the type of its results and the schema of the file it records them in. */
export const calibrationSchema = z.object({
  run: z.string(),
  reference: z.string(),
  /** Share of the reference language's documents each run threshold removes (what the others are matched to). */
  reference_removes: z.record(z.string(), share),
  languages: z.array(languageCalibration),
});
export type Calibration = z.infer<typeof calibrationSchema>;

/** Where `refinery calibrate` records a run's Calibration in the run, for its report. */
export const CALIBRATION_FILE = 'stats/calibration.json';

/** The LID threshold in a run that FineWeb and DCLM use when the run names none. */
const DEFAULT_LID_THRESHOLD = 0.65;

interface RunStage {
  stage: string;
  options: Record<string, unknown>;
}

async function runStages(run: string, files: RunFiles, name: string): Promise<RunStage[]> {
  const path = join(run, 'run.json');
  let record: { identity?: { config?: { stages?: RunStage[] } } };
  try {
    if (!(await files.need(path))) throw new Error('no run.json');
    record = JSON.parse(await readFile(path, 'utf8')) as typeof record;
  } catch (e) {
    throw new InputError(join(name, 'run.json'), {}, `not a run (${(e as Error).message})`);
  }
  return record.identity?.config?.stages ?? [];
}

function metaNumber(meta: Record<string, unknown>, path: string): number | null {
  let v: unknown = meta;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return null;
    v = (v as Record<string, unknown>)[part];
  }
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

/** A language's sample: per document, its hash, LID score and each rule's measured value. */
interface Sampled {
  hash: number;
  id: string;
  values: (number | null)[];
}

/**
 * The calibration of the run in the folder `run`; `files` reads it (a bucket run's files are
 * fetched into the folder as they are read, see pipeline/run-folder/open-run.ts), and `name` is
 * what messages and the Calibration call it (its folder path or s3:// URL).
 */
export async function calibrateRun(run: string, options: CalibrateOptions, files: RunFiles = folderFiles, name: string = run): Promise<Calibration> {
  const stages = await runStages(run, files, name);
  const fields = ['language_score', ...THRESHOLD_RULES.map((r) => r.field)];
  const perLanguage = new Map<string, Sampled[]>();
  const counts = new Map<string, number>();
  const keep = (list: Sampled[]) => list.sort((a, b) => a.hash - b.hash || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, options.sampleDocs);
  let documents = 0;
  for await (const { meta, id } of runRecords(run, ['kept', 'rejected'], files)) {
    documents++;
    const language = meta.language;
    if (typeof language !== 'string') continue;
    counts.set(language, (counts.get(language) ?? 0) + 1);
    let list = perLanguage.get(language);
    if (list === undefined) perLanguage.set(language, (list = []));
    list.push({ hash: hashString32(id, 0), id, values: fields.map((f) => metaNumber(meta, f)) });
    if (list.length >= 2 * options.sampleDocs) perLanguage.set(language, keep(list));
  }
  if (documents === 0) throw new InputError(name, {}, 'no documents in kept/ or rejected/ (is it a finished run?)');
  const column = (list: Sampled[], i: number) => new SortedValues(list.map((s) => s.values[i]).filter((v): v is number => v !== null));
  const optionOf = (rule: ThresholdRule): number | undefined => {
    const v = stages.find((s) => s.stage === rule.stage)?.options[rule.option];
    return typeof v === 'number' ? v : undefined;
  };
  const lidDefault = (() => {
    const v = stages.find((s) => s.stage === 'langid')?.options.language_threshold;
    return typeof v === 'number' ? v : DEFAULT_LID_THRESHOLD;
  })();

  const reference = keep(perLanguage.get(options.reference) ?? []);
  const referenceRemoves: Record<string, number> = {};
  THRESHOLD_RULES.forEach((rule, r) => {
    const t = optionOf(rule);
    const values = column(reference, r + 1);
    if (t !== undefined && values.size >= options.minDocs) referenceRemoves[`${rule.stage}.${rule.option}`] = round4(values.removed(rule, t));
  });

  const languages: LanguageCalibration[] = [];
  for (const language of [...perLanguage.keys()].sort()) {
    const sample = keep(perLanguage.get(language)!);
    const scores = column(sample, 0);
    let lid: LanguageCalibration['lid'] = null;
    if (scores.size >= options.minDocs) {
      const { median, std, threshold } = lidThreshold([...scores.values]);
      const lidRule: ThresholdRule = { stage: 'select', option: 'language_score', field: 'language_score', side: 'min', inclusive: false };
      const t = round4(threshold);
      lid = { docs: scores.size, median: round4(median), std: round4(std), default: lidDefault, threshold: t, removes_default: round4(scores.removed(lidRule, lidDefault)), removes_calibrated: round4(scores.removed(lidRule, t)) };
    }
    const thresholds: ThresholdCalibration[] = [];
    if (language !== options.reference) {
      THRESHOLD_RULES.forEach((rule, r) => {
        const t = optionOf(rule);
        const share = referenceRemoves[`${rule.stage}.${rule.option}`];
        const values = column(sample, r + 1);
        if (t === undefined || share === undefined || values.size < options.minDocs) return;
        const calibrated = matchingThreshold(values, rule, share, t);
        thresholds.push({ stage: rule.stage, option: rule.option, default: t, calibrated, removes_default: round4(values.removed(rule, t)), removes_calibrated: round4(values.removed(rule, calibrated)), docs: values.size });
      });
    }
    languages.push({ language, docs: counts.get(language) ?? 0, lid, thresholds });
  }
  return { run: name, reference: options.reference, reference_removes: referenceRemoves, languages };
}

function round4(x: number): number {
  return Math.round(x * 1e4) / 1e4;
}

/** The `overrides` per stage name that a pipeline includes with `overrides_from:`. */
export function overridesOf(c: Calibration): Record<string, { when: { language: string }; options: Record<string, unknown> }[]> {
  const out: Record<string, { when: { language: string }; options: Record<string, unknown> }[]> = {};
  const add = (stage: string, language: string, options: Record<string, unknown>) => (out[stage] ??= []).push({ when: { language }, options });
  for (const l of c.languages) {
    if (l.lid) add('select', l.language, { where: [{ field: 'language_score', min: l.lid.threshold }] });
    const byStage = new Map<string, Record<string, unknown>>();
    for (const t of l.thresholds) {
      if (t.calibrated === t.default) continue;
      const options = byStage.get(t.stage) ?? {};
      options[t.option] = t.calibrated;
      byStage.set(t.stage, options);
    }
    for (const [stage, options] of byStage) add(stage, l.language, options);
  }
  return out;
}
