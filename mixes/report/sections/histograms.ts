/** Measurements: each numeric value the stages write into meta, over kept documents and those rejected by the rule that compares it or by another. */
import type { TopLevelSpec } from 'vega-lite';
import { WIDTH } from '../chart-specs.ts';
import { describeWhen, isScoreField, measurementOf, optionThreshold, rulesOfField, type StageOptions } from '../measures.ts';
import { forEachMeasurement, stageMetaKey } from '../settled-figures.ts';
import { addSketch, sketchQuantile, sketchTotal, SketchBuilder, SKETCH_DIGITS, type ValueSketch } from '../value-sketch.ts';
import { measureNumber, n, table, type ReportSection } from '../section.ts';

const HISTOGRAM_BINS = 20;
/** Classes of a measurement's documents, in the sketches' order. */
const KEPT = 0;
const BY_THIS_RULE = 1;
const BY_OTHER_RULE = 2;
const THIS_RULE = 'rejected by this rule';
const OTHER_RULE = 'rejected by another rule';
const OUTCOMES = ['kept', OTHER_RULE, THIS_RULE];

export interface HistogramBin {
  from: number;
  to: number;
  kept: number;
  /** this_rule + other_rule. */
  rejected: number;
  /** Rejected by a rule that compares this measurement with a threshold. */
  this_rule: number;
  /** Rejected by another rule: an earlier rule of the same stage, or a later stage. */
  other_rule: number;
}

export interface Histogram {
  field: string;
  /** The rules that compare this measurement with a threshold (`stage:rule`). */
  rules: string[];
  /** The first threshold, for a single line on the chart; `thresholds` has every one. */
  threshold: number | null;
  /** Each rule's threshold; a per-document override's own (`when`: `language: de`) where it differs. */
  thresholds: { rule: string; value: number; drops: 'above' | 'below'; when?: string }[];
  kept: number;
  rejected: number;
  this_rule: number;
  other_rule: number;
  min: number;
  max: number;
  /** `log`: bins are spaced evenly on a log scale (heavy-tailed counts). */
  scale: 'linear' | 'log';
  /** The last bin also holds every value above its `to` (a long tail cut at the 99th percentile). */
  overflow: boolean;
  bins: HistogramBin[];
}

interface HistogramTally {
  fields: Record<string, ValueSketch>;
  /** token-outlier writes its threshold (a corpus quantile) beside each value: the distinct ones seen, at most two. */
  per_doc_thresholds: Record<string, number[]>;
}

function thresholdsOf(rules: string[], settings: StageOptions): Histogram['thresholds'] {
  const out: Histogram['thresholds'] = [];
  for (const rule of rules) {
    const m = measurementOf(rule, {}, settings);
    const drops = m.drops ?? 'above';
    const s = settings.get(rule.slice(0, rule.indexOf(':')));
    const base = s ? optionThreshold(rule, s.options) : undefined;
    if (base !== undefined) out.push({ rule, value: base, drops });
    for (const o of s?.overrides ?? []) {
      const value = optionThreshold(rule, o.options);
      const when = describeWhen(o.when);
      if (value !== undefined && value !== base && !out.some((t) => t.rule === rule && t.value === value && t.when === when)) out.push({ rule, value, drops, when });
    }
  }
  return out;
}

/** The histogram of a measurement from its sketch: bins chosen from its spread, each rounded value counted in its bin. */
function histogram(field: string, sk: ValueSketch, settings: StageOptions, perDoc: number[]): Histogram {
  const { min, max } = sk;
  const rules = rulesOfField(field);
  const thresholds = thresholdsOf(rules, settings);
  // token-outlier writes its threshold (a corpus quantile) beside each value; one line when there is one.
  const first = rules[0];
  if (thresholds.length === 0 && first !== undefined && perDoc.length === 1 && perDoc[0] !== undefined) thresholds.push({ rule: first, value: perDoc[0], drops: 'above' });
  const median = sketchQuantile(sk, 0.5);
  // Heavy-tailed counts (words, tokens, line lengths) get log-spaced bins, so that 50 and 50,000 both show.
  const log = min >= 0 && max >= 100 && max > 20 * Math.max(median, 1);
  let bins: HistogramBin[];
  let binOf: (v: number) => number;
  let overflow = false;
  if (log) {
    const start = Math.max(1, min);
    const ratio = Math.pow(max / start, 1 / HISTOGRAM_BINS) || 2;
    const edge = (i: number) => Number((start * Math.pow(ratio, i)).toPrecision(4));
    bins = Array.from({ length: HISTOGRAM_BINS }, (_, i) => ({ from: i === 0 ? Math.min(min, start) : edge(i), to: i === HISTOGRAM_BINS - 1 ? max : edge(i + 1), kept: 0, rejected: 0, this_rule: 0, other_rule: 0 }));
    binOf = (v) => (v <= start ? 0 : Math.max(0, Math.min(HISTOGRAM_BINS - 1, Math.floor(Math.log(v / start) / Math.log(ratio)))));
  } else {
    const lo0 = min;
    let lo = min;
    let hi = max;
    const p99 = sketchQuantile(sk, 0.99);
    if (sketchTotal(sk) >= 50 && p99 < lo0 + (max - lo0) / 4) hi = p99;
    // A threshold inside the data but beyond the cut stays in view.
    for (const t of thresholds) if (t.value > hi && t.value <= max) hi = Math.min(max, t.value * 1.1);
    overflow = hi < max;
    // Counts and fractions read best from 0.
    if (lo > 0 && lo < (hi - lo) / 2) lo = 0;
    let width = hi > lo ? (hi - lo) / HISTOGRAM_BINS : 1;
    if (sk.integral) width = Math.max(1, Math.ceil(width));
    const count = hi > lo ? Math.max(1, Math.ceil((hi - lo) / width - 1e-9)) : 1;
    bins = Array.from({ length: count }, (_, i) => ({ from: lo + i * width, to: lo + (i + 1) * width, kept: 0, rejected: 0, this_rule: 0, other_rule: 0 }));
    binOf = (v) => Math.max(0, Math.min(count - 1, Math.floor((v - lo) / width)));
  }
  for (const [v, kept = 0, thisRule = 0, otherRule = 0] of sk.values) {
    const b = bins[binOf(v)];
    if (!b) continue;
    b.kept += kept;
    b.this_rule += thisRule;
    b.other_rule += otherRule;
    b.rejected += thisRule + otherRule;
  }
  const [kept = 0, thisRule = 0, otherRule = 0] = sk.counts;
  return { field, rules, threshold: thresholds[0]?.value ?? null, thresholds, kept, rejected: thisRule + otherRule, this_rule: thisRule, other_rule: otherRule, min, max, scale: log ? 'log' : 'linear', overflow, bins };
}

const thresholdText = (t: Histogram['thresholds'][number]) => `${t.drops === 'above' ? '>' : '<'} ${measureNumber(t.value)}${t.when ? ` (${t.when})` : ''}`;

/** 1, 10, 100 ... within [lo, hi], for the ticks of a log axis. */
function powersOfTen(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let p = 1; p <= hi; p *= 10) if (p >= lo) out.push(p);
  return out;
}

/** A histogram of a measurement, kept and rejected stacked, with each threshold as a vertical line. */
function histogramChart(h: Histogram): TopLevelSpec {
  const values = h.bins.flatMap((b) => [
    { from: b.from, to: b.to, outcome: 'kept', order: 0, docs: b.kept },
    { from: b.from, to: b.to, outcome: OTHER_RULE, order: 1, docs: b.other_rule },
    { from: b.from, to: b.to, outcome: THIS_RULE, order: 2, docs: b.this_rule },
  ]);
  const lo = h.bins[0]?.from ?? h.min;
  const hi = h.bins[h.bins.length - 1]?.to ?? h.max;
  const lines = h.thresholds.filter((t) => t.value >= lo && t.value <= hi).map((t) => ({ value: t.value, label: `${t.rule.slice(t.rule.indexOf(':') + 1)} ${t.drops === 'above' ? '>' : '<'} ${t.value}${t.when ? ` (${t.when})` : ''}` }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: `${h.field}: kept and rejected documents${h.overflow ? ' (last bar: everything above)' : ''}`,
    width: WIDTH,
    height: 160,
    config: { view: { stroke: null }, font: 'sans-serif', axis: { labelLimit: 0 } },
    layer: [
      {
        data: { values },
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: {
            field: 'from',
            type: 'quantitative',
            bin: { binned: true },
            title: `${h.field}${h.scale === 'log' ? ' (log scale)' : ''}`,
            scale: { type: h.scale === 'log' ? 'symlog' : 'linear', domain: [lo, hi], nice: false },
            ...(h.scale === 'log' ? { axis: { values: powersOfTen(lo, hi), format: ',d' } } : {}),
          },
          x2: { field: 'to' },
          y: { field: 'docs', type: 'quantitative', title: 'documents', stack: 'zero', axis: { tickMinStep: 1, format: 'd' } },
          color: { field: 'outcome', type: 'nominal', title: null, sort: OUTCOMES, scale: { domain: OUTCOMES, range: ['#4c78a8', '#f2b5a7', '#e45756'] } },
          order: { field: 'order', type: 'quantitative' },
        },
      },
      ...(lines.length
        ? [
            { data: { values: lines }, mark: { type: 'rule', color: '#111', strokeDash: [4, 3], strokeWidth: 1.5 }, encoding: { x: { field: 'value', type: 'quantitative' } } },
            { data: { values: lines }, mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, y: 2, fontSize: 10 }, encoding: { x: { field: 'value', type: 'quantitative' }, text: { field: 'label' } } },
          ]
        : []),
    ],
  } as TopLevelSpec;
}

export const histogramsSection: ReportSection<'histograms', Record<string, Histogram>, HistogramTally> = {
  key: 'histograms',
  title: 'Measurements: kept against rejected',

  tally: {
    start({ stages }) {
      const stageKeys = new Set(stages.map(stageMetaKey));
      const sketches = new Map<string, { rules: ReadonlySet<string>; builder: SketchBuilder }>();
      const perDoc = new Set<number>();
      return {
        add({ outcome, doc }) {
          if (outcome === 'errored') return;
          const reason = doc.meta.reject_reason;
          forEachMeasurement(doc.meta, stageKeys, (field, v) => {
            let sk = sketches.get(field);
            if (!sk) sketches.set(field, (sk = { rules: new Set(rulesOfField(field)), builder: new SketchBuilder(3) }));
            sk.builder.add(v, outcome === 'kept' ? KEPT : typeof reason === 'string' && sk.rules.has(reason) ? BY_THIS_RULE : BY_OTHER_RULE);
          });
          const outlier = doc.meta.token_outlier as { threshold?: unknown } | undefined;
          if (typeof outlier?.threshold === 'number' && perDoc.size < 2) perDoc.add(outlier.threshold);
        },
        part: () => ({
          fields: Object.fromEntries([...sketches].map(([field, sk]) => [field, sk.builder.sketch()])),
          per_doc_thresholds: (perDoc.size ? { 'token_outlier.kl': [...perDoc].sort((a, b) => a - b) } : {}) as Record<string, number[]>,
        }),
      };
    },
    merge(into, part) {
      for (const [field, sk] of Object.entries(part.fields)) {
        const have = into.fields[field];
        into.fields[field] = have ? addSketch(have, sk) : structuredClone(sk);
      }
      for (const [field, values] of Object.entries(part.per_doc_thresholds)) into.per_doc_thresholds[field] = [...new Set([...(into.per_doc_thresholds[field] ?? []), ...values])].sort((x, y) => x - y).slice(0, 2);
      return into;
    },
  },

  collect({ tallies, settings }) {
    const t = tallies.histograms as HistogramTally | undefined;
    if (!t) return {};
    return Object.fromEntries(
      Object.entries(t.fields)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([field, sk]) => [field, histogram(field, sk, settings, t.per_doc_thresholds[field] ?? [])]),
    );
  },

  text(histograms, { documents_basis }) {
    const none = documents_basis.startsWith('not run');
    const fields = Object.values(histograms);
    if (none || !fields.length) return { notes: [none ? documents_basis : 'No numeric measurement in the documents\' meta.'], tables: [] };
    return {
      notes: [
        `From ${documents_basis}. Every document that carries the measurement: kept, rejected by this rule (a rule that compares this measurement with its threshold), or rejected by another rule (an earlier rule of the same stage, or a later stage). Values are binned rounded to ${SKETCH_DIGITS} significant digits; counts, minimum and maximum are exact. Charts show the measurements a rule compares with a threshold, and scores; report.json has a histogram of every one.`,
      ],
      tables: [
        table(
          ['measurement', 'kept', 'rejected by this rule', 'rejected by another rule', 'min', 'max', 'threshold', 'rules'],
          fields.map((h) => [h.field, n(h.kept), n(h.this_rule), n(h.other_rule), measureNumber(h.min), measureNumber(h.max), h.thresholds.map(thresholdText).join(', ') || '–', h.rules.join(', ') || '–']),
          [false, true, true, true, true, true, false, false],
        ),
      ],
    };
  },
  charts: (histograms) => Object.values(histograms).filter((h) => h.thresholds.length || (isScoreField(h.field) && !h.field.includes('.'))).map(histogramChart),
};
