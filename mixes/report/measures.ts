/**
 * What each built-in reject rule measured and against which option: the meta field a stage
 * writes, and the option holding the threshold, so that the inspector and the report can print
 * "words 43 < 50" for `gopher-quality:short_doc`. Options come from the run's `run.json` (the
 * resolved config, defaults filled in); a rule missing here shows its `reject_detail` only.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { folderFiles, type RunFiles } from '../../pipeline/run-folder/files.ts';

/** A rule's measurement: a meta path, the option that holds its threshold, and the side that is dropped. */
export interface RuleMeasure {
  field: string;
  /** Option key, or a function of the options for thresholds kept in lists (gopher-repetition's n-grams). */
  option: string | ((options: Record<string, unknown>) => unknown);
  /** `above`: dropped when the value exceeds the threshold; `below`: when it falls under it. */
  drops: 'above' | 'below';
}

const nGram = (key: 'top_n_grams' | 'dup_n_grams', n: number) => (o: Record<string, unknown>) => {
  const list = o[key];
  return Array.isArray(list) ? (list.find((p) => Array.isArray(p) && p[0] === n) as unknown[] | undefined)?.[1] : undefined;
};

const RULES: Record<string, RuleMeasure> = {
  'langid:language_score': { field: 'language_score', option: 'language_threshold', drops: 'below' },
  'gopher-quality:short_doc': { field: 'gopher_quality.words', option: 'min_doc_words', drops: 'below' },
  'gopher-quality:long_doc': { field: 'gopher_quality.words', option: 'max_doc_words', drops: 'above' },
  'gopher-quality:below_avg_word_length': { field: 'gopher_quality.mean_word_length', option: 'min_avg_word_length', drops: 'below' },
  'gopher-quality:above_avg_word_length': { field: 'gopher_quality.mean_word_length', option: 'max_avg_word_length', drops: 'above' },
  'gopher-quality:too_many_hashes': { field: 'gopher_quality.hash_word_ratio', option: 'max_symbol_word_ratio', drops: 'above' },
  'gopher-quality:too_many_ellipsis': { field: 'gopher_quality.ellipsis_word_ratio', option: 'max_symbol_word_ratio', drops: 'above' },
  'gopher-quality:too_many_bullet_lines': { field: 'gopher_quality.bullet_lines_ratio', option: 'max_bullet_lines_ratio', drops: 'above' },
  'gopher-quality:too_many_end_ellipsis_lines': { field: 'gopher_quality.ellipsis_lines_ratio', option: 'max_ellipsis_lines_ratio', drops: 'above' },
  'gopher-quality:below_alpha_words_ratio': { field: 'gopher_quality.alpha_words_ratio', option: 'min_alpha_words_ratio', drops: 'below' },
  'gopher-quality:not_enough_stop_words': { field: 'gopher_quality.stop_words', option: 'min_stop_words', drops: 'below' },
  'gopher-repetition:dup_para_frac': { field: 'gopher_repetition.dup_para_frac', option: 'dup_para_frac', drops: 'above' },
  'gopher-repetition:dup_para_char_frac': { field: 'gopher_repetition.dup_para_char_frac', option: 'dup_para_char_frac', drops: 'above' },
  'gopher-repetition:dup_line_frac': { field: 'gopher_repetition.dup_line_frac', option: 'dup_line_frac', drops: 'above' },
  'gopher-repetition:dup_line_char_frac': { field: 'gopher_repetition.dup_line_char_frac', option: 'dup_line_char_frac', drops: 'above' },
  'fineweb:line_punct_ratio': { field: 'fineweb.line_punct_ratio', option: 'line_punct_thr', drops: 'below' },
  'fineweb:short_line_ratio': { field: 'fineweb.short_line_ratio', option: 'short_line_thr', drops: 'above' },
  'fineweb:char_dup_ratio': { field: 'fineweb.char_dup_ratio', option: 'char_duplicates_ratio', drops: 'above' },
  'fineweb:list_ratio': { field: 'fineweb.new_line_ratio', option: 'new_line_ratio', drops: 'above' },
  'c4:too_few_sentences': { field: 'c4.sentences', option: 'min_num_sentences', drops: 'below' },
  'dirty-words:dirty_word_ratio': { field: 'dirty_words.ratio', option: 'max_dirty_word_ratio', drops: 'above' },
  'dirty-words:dirty_word_count': { field: 'dirty_words.count', option: 'max_dirty_words', drops: 'above' },
  'token-outlier:kl_divergence': { field: 'token_outlier.kl', option: () => undefined, drops: 'above' },
  'code-quality:max_line_length': { field: 'code_quality.max_line_length', option: 'max_line_length', drops: 'above' },
  'code-quality:mean_line_length': { field: 'code_quality.mean_line_length', option: 'max_mean_line_length', drops: 'above' },
  'code-quality:alphanum_fraction': { field: 'code_quality.alphanum_fraction', option: 'min_alphanum_fraction', drops: 'below' },
};
for (const n of [2, 3, 4]) RULES[`gopher-repetition:top_${n}_gram`] = { field: `gopher_repetition.top_${n}_gram_char_frac`, option: nGram('top_n_grams', n), drops: 'above' };
for (const n of [5, 6, 7, 8, 9, 10]) RULES[`gopher-repetition:duplicated_${n}_n_grams`] = { field: `gopher_repetition.dup_${n}_gram_char_frac`, option: nGram('dup_n_grams', n), drops: 'above' };

export function ruleMeasure(reason: string): RuleMeasure | undefined {
  return RULES[reason];
}

/** The rules whose measurement is `field`, e.g. `gopher_quality.words` → short_doc and long_doc. */
export function rulesOfField(field: string): string[] {
  return Object.entries(RULES).filter(([, m]) => m.field === field).map(([r]) => r);
}

export function metaValue(meta: Record<string, unknown>, path: string): unknown {
  let v: unknown = meta;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

/** A stage's per-document overrides: the first whose `when` matches a document's meta judged it. */
export interface StageOverride {
  when: Record<string, unknown>;
  options: Record<string, unknown>;
}

/** A stage's resolved options in the run, and its overrides (each with its options resolved). */
export interface StageSettings {
  options: Record<string, unknown>;
  overrides: StageOverride[];
}

/** Each stage's settings in the run, by stage name (the first entry of a name that occurs twice). */
export type StageOptions = Map<string, StageSettings>;

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The settings of config stage entries (`{stage, options, overrides}`, as run.json and the run's config hold them). */
export function stageSettings(stages: readonly { stage?: unknown; name?: unknown; options?: unknown; overrides?: unknown }[]): StageOptions {
  const out: StageOptions = new Map();
  for (const s of stages) {
    const name = typeof s?.stage === 'string' ? s.stage : typeof s?.name === 'string' ? s.name : undefined;
    if (name === undefined || out.has(name) || !isObject(s.options)) continue;
    const overrides = Array.isArray(s.overrides) ? s.overrides.filter((o): o is StageOverride => isObject(o) && isObject(o.when) && isObject(o.options)) : [];
    out.set(name, { options: s.options, overrides });
  }
  return out;
}

/** `when` as written in the config: `language: de`, `language: de, source: web`. */
export function describeWhen(when: Record<string, unknown>): string {
  return Object.entries(when).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(' or ') : String(v)}`).join(', ');
}

/** What the override router records of a document it sent to an override: `meta.<stage>.judged_by = "overrides[j]"`. */
function recordedOverride(meta: Record<string, unknown>, stage: string): number | undefined {
  const own = meta[stage.replace(/-/g, '_')];
  const by = isObject(own) ? own.judged_by : undefined;
  const m = typeof by === 'string' ? /^overrides\[(\d+)\]$/.exec(by) : null;
  return m ? Number(m[1]) : undefined;
}

function whenMatches(meta: Record<string, unknown>, when: Record<string, unknown>): boolean {
  return Object.entries(when).every(([field, expected]) => {
    const actual = field in meta ? meta[field] : metaValue(meta, field);
    return Array.isArray(expected) ? expected.some((e) => e === actual) : expected === actual;
  });
}

/**
 * The options a document was judged with: those of the override the router recorded for it, else
 * of the first override whose `when` matches its meta (a run that did not record it), else the
 * stage's own.
 */
export function judgedOptions(stage: string, meta: Record<string, unknown> | undefined, settings: StageOptions): { options: Record<string, unknown>; when?: Record<string, unknown> } | undefined {
  const s = settings.get(stage);
  if (!s) return undefined;
  if (meta && s.overrides.length) {
    const j = recordedOverride(meta, stage);
    const o = j !== undefined ? s.overrides[j] : s.overrides.find((x) => whenMatches(meta, x.when));
    if (o) return { options: o.options, when: o.when };
  }
  return { options: s.options };
}

/** The threshold of a rule under a set of options. */
export function optionThreshold(reason: string, options: Record<string, unknown>): number | undefined {
  const m = RULES[reason];
  if (!m) return undefined;
  const v = typeof m.option === 'function' ? m.option(options) : options[m.option];
  return typeof v === 'number' ? v : undefined;
}

/** The stages' settings recorded in `run.json`; empty when the folder has none (a run of an older version). */
export async function readStageOptions(runDir: string, files: RunFiles = folderFiles): Promise<StageOptions> {
  let record: unknown;
  try {
    await files.need(join(runDir, 'run.json'));
    record = JSON.parse(await readFile(join(runDir, 'run.json'), 'utf8'));
  } catch {
    return new Map();
  }
  const stages = (record as { identity?: { config?: { stages?: unknown } } })?.identity?.config?.stages;
  return Array.isArray(stages) ? stageSettings(stages as { stage?: unknown }[]) : new Map();
}

/**
 * The threshold of a rule for a document: the option's value among the options the document was
 * judged with (overrides included), or what the stage wrote beside the value (token-outlier).
 */
export function thresholdOf(reason: string, meta: Record<string, unknown> | undefined, options: StageOptions): number | undefined {
  const m = RULES[reason];
  if (!m) return undefined;
  const judged = judgedOptions(reason.slice(0, reason.indexOf(':')), meta, options);
  const v = judged ? optionThreshold(reason, judged.options) : undefined;
  if (v !== undefined) return v;
  // token-outlier's threshold is a quantile of the corpus, written per document.
  if (meta && reason === 'token-outlier:kl_divergence') {
    const t = metaValue(meta, 'token_outlier.threshold');
    if (typeof t === 'number') return t;
  }
  return undefined;
}

/** The measured value of a rule for one document, with its threshold where known and the override that set it. */
export function measurementOf(reason: string, meta: Record<string, unknown>, options: StageOptions): { field?: string; value?: number; threshold?: number; drops?: 'above' | 'below'; when?: string } {
  const m = RULES[reason];
  if (!m) return {};
  const v = metaValue(meta, m.field);
  const threshold = thresholdOf(reason, meta, options);
  const when = judgedOptions(reason.slice(0, reason.indexOf(':')), meta, options)?.when;
  return { field: m.field, ...(typeof v === 'number' ? { value: v } : {}), ...(threshold !== undefined ? { threshold } : {}), drops: m.drops, ...(when && threshold !== undefined ? { when: describeWhen(when) } : {}) };
}

/**
 * The meta fields the "Quality scores" section shows (numbers only): `quality` (what the
 * `quality` stage writes by default), any key containing `score` (`quality_score`, a multi-class
 * model's `category_score`, `fasttext_score` ...), and each entry of a `scores` object.
 */
export const SCORE_FIELD_NAMES: readonly string[] = ['quality'];
const SCORE_FIELD_PATTERN = /score/i;

export function isScoreField(key: string): boolean {
  return SCORE_FIELD_NAMES.includes(key) || SCORE_FIELD_PATTERN.test(key);
}
