/**
 * Per-language calibration: what `refinery calibrate <run>` measured of this run
 * (stats/calibration.json): per language, the share of its documents each threshold removes at the
 * run's (English) default and at the value calibrated from the language's own distribution, beside
 * the share the default removes of the reference language. And the per-language thresholds this
 * run applied (language overrides in run.json, such as a calibrated overrides file included with
 * `overrides_from:`), whose effect on this run is measured only by calibrating it in turn.
 */
import { join } from 'node:path';
import { pct } from '../../figures.ts';
import { readJsonIf } from '../run-files.ts';
import { missing, n, table, type Missing, type ReportSection, type Table } from '../section.ts';
import type { StageOptions } from '../measures.ts';
import { CALIBRATION_FILE, calibrationSchema, type Calibration } from '../../../classifiers/calibrate/calibrate-run.ts';
import { THRESHOLD_RULES } from '../../../classifiers/calibrate/rules.ts';

/** The language-ID threshold's name in the tables, as `refinery calibrate` prints it. */
const LID = 'langid score';

/** One threshold of one language: its default and calibrated values and the share of the language's documents each removes. */
interface ThresholdRow {
  /** `langid score`, or `stage.option`. */
  threshold: string;
  /** The language's documents with the measured value. */
  docs: number;
  default: number;
  calibrated: number;
  removes_default: number;
  removes_calibrated: number;
  /** The share the default removes of the reference language's documents (null when it was not measured). */
  reference_removes: number | null;
}

/** A per-language threshold the run applied: a language override's value and the stage's own. */
interface AppliedRow {
  language: string;
  threshold: string;
  default: number | null;
  applied: number;
}

export interface CalibrationSection {
  available: true;
  /** What stats/calibration.json holds, or null when the run was not calibrated. */
  measured: { file: string; reference: string; languages: { language: string; docs: number; thresholds: ThresholdRow[] }[] } | null;
  applied: AppliedRow[];
}

function measuredRows(c: Calibration): NonNullable<CalibrationSection['measured']>['languages'] {
  const referenceLid = c.languages.find((l) => l.language === c.reference)?.lid;
  return c.languages.map((l) => ({
    language: l.language,
    docs: l.docs,
    thresholds: [
      ...(l.lid ? [{ threshold: LID, docs: l.lid.docs, default: l.lid.default, calibrated: l.lid.threshold, removes_default: l.lid.removes_default, removes_calibrated: l.lid.removes_calibrated, reference_removes: referenceLid?.removes_default ?? null }] : []),
      ...l.thresholds.map((t) => {
        const threshold = `${t.stage}.${t.option}`;
        return { threshold, docs: t.docs, default: t.default, calibrated: t.calibrated, removes_default: t.removes_default, removes_calibrated: t.removes_calibrated, reference_removes: c.reference_removes[threshold] ?? null };
      }),
    ],
  }));
}

/** The `min` of a `select` condition on language_score (where the LID threshold of a calibrated overrides file goes). */
function lidMin(where: unknown): number | undefined {
  if (!Array.isArray(where)) return undefined;
  const c = where.find((w: unknown) => (w as { field?: unknown } | null)?.field === 'language_score') as { min?: unknown } | undefined;
  return typeof c?.min === 'number' ? c.min : undefined;
}

/** The run's overrides of the calibrated thresholds whose `when` is a language only, where they differ from the stage's own; the first per language and threshold, as the router takes the first match. */
function appliedRows(settings: StageOptions): AppliedRow[] {
  const rows: AppliedRow[] = [];
  const seen = new Set<string>();
  const add = (language: string, threshold: string, base: number | undefined, applied: number | undefined) => {
    if (applied === undefined || seen.has(`${language}\0${threshold}`)) return;
    seen.add(`${language}\0${threshold}`);
    // run.json holds an override's options resolved, its stage's defaults included: only a value of its own is shown.
    if (applied !== base) rows.push({ language, threshold, default: base ?? null, applied });
  };
  for (const [stage, s] of settings) {
    const rules = THRESHOLD_RULES.filter((r) => r.stage === stage);
    if (stage !== 'select' && rules.length === 0) continue;
    for (const o of s.overrides) {
      const { language, ...rest } = o.when;
      if (Object.keys(rest).length > 0) continue;
      const languages = typeof language === 'string' ? [language] : Array.isArray(language) ? language.filter((l): l is string => typeof l === 'string') : [];
      const num = (v: unknown) => (typeof v === 'number' ? v : undefined);
      for (const l of languages) {
        if (stage === 'select') add(l, LID, lidMin(s.options.where), lidMin(o.options.where));
        for (const r of rules) add(l, `${stage}.${r.option}`, num(s.options[r.option]), num(o.options[r.option]));
      }
    }
  }
  return rows.sort((a, b) => (a.language < b.language ? -1 : a.language > b.language ? 1 : 0));
}

const value = (x: number | null) => (x === null ? '–' : String(x));
const share = (x: number | null) => (x === null ? '–' : pct(x));

export const calibrationSection: ReportSection<'calibration', CalibrationSection | Missing> = {
  key: 'calibration',
  title: 'Per-language calibration',

  async collect({ runDir, files, settings }) {
    const file = join(runDir, CALIBRATION_FILE);
    const raw = await readJsonIf(file, files);
    const parsed = calibrationSchema.safeParse(raw);
    if (raw !== undefined && !parsed.success) {
      const first = parsed.error.issues[0];
      return missing(`${CALIBRATION_FILE} is not in the expected shape (${first ? `${first.path.join('.') || 'the file'}: ${first.message}` : 'unreadable'}); \`refinery calibrate\` writes it again`);
    }
    const applied = appliedRows(settings);
    if (!parsed.success && applied.length === 0) return missing(`not run: no ${CALIBRATION_FILE} (refinery calibrate <run> -o overrides.yaml writes it) and no per-language threshold overrides in run.json`);
    return { available: true, measured: parsed.success ? { file: CALIBRATION_FILE, reference: parsed.data.reference, languages: measuredRows(parsed.data) } : null, applied };
  },

  text(data) {
    if (!data.available) return { notes: [data.note], tables: [] };
    const notes: string[] = [];
    const tables: Table[] = [];
    const m = data.measured;
    if (m) {
      notes.push(
        `From ${m.file} (refinery calibrate): per language, the share of its documents each threshold removes at the run's default and at the value calibrated from the language's own distribution: ${LID} by FineWeb-2's rule, the filter thresholds by matching the share the default removes of ${m.reference}'s documents (the last column). Shares are of the language's sampled documents that carry the measured value ("measured"); docs/filters.md, "Per-language calibration".`,
      );
      const rows = m.languages.flatMap((l) => l.thresholds.map((t) => [l.language, n(l.docs), t.threshold, n(t.docs), String(t.default), pct(t.removes_default), String(t.calibrated), pct(t.removes_calibrated), share(t.reference_removes)]));
      if (rows.length) tables.push(table(['language', 'documents', 'threshold', 'measured', 'default', 'removes', 'calibrated', 'removes', `${m.reference} removes at default`], rows, [false, true, false, true, true, true, true, true, true]));
      else notes.push('No language had enough measured documents for a calibrated value (--min-docs).');
    } else {
      notes.push(`Not measured: no ${CALIBRATION_FILE}; refinery calibrate <run> -o overrides.yaml measures the share each threshold removes per language.`);
    }
    if (data.applied.length) {
      notes.push("Per-language thresholds this run applied where they differ from the stage's own (language overrides in run.json, e.g. a calibrated file included with overrides_from:).");
      tables.push(table(['language', 'threshold', 'default', 'applied'], data.applied.map((a) => [a.language, a.threshold, value(a.default), String(a.applied)]), [false, false, true, true]));
    }
    return { notes, tables };
  },

  charts: () => [],
};
