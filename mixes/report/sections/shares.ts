/** Planned against achieved shares: the plan's share per category (and non-English) and per bucket, with what the manifest holds. */
import type { TopLevelSpec } from 'vega-lite';
import { bucketId, isNonEnglish } from '../../bucket.ts';
import { pct } from '../../figures.ts';
import { groupedRows } from '../chart-specs.ts';
import type { ManifestBucket } from '../run-schemas.ts';
import { availableText, maybe, n, opt, table, type Missing, type ReportSection } from '../section.ts';
import { NO_PLAN } from './plan-missing.ts';

export interface SharesSection {
  available: true;
  plan_status: string;
  rows: { name: string; natural: number; planned: number; achieved?: number; min?: number; max?: number }[];
  /** Per bucket: tokens the plan draws and the manifest holds; `cut` when the sampler cut the bucket (within one document). */
  buckets: { id: string; planned_tokens: number; achieved_tokens?: number; cut: boolean }[];
}

/** Achieved share outside the target range (or, without one, more than 1 point from the plan). */
export function shareMissed(x: { planned: number; achieved?: number; min?: number; max?: number }): boolean {
  if (x.achieved === undefined) return false;
  if (x.min !== undefined || x.max !== undefined) return x.achieved < (x.min ?? 0) - 1e-9 || x.achieved > (x.max ?? 1) + 1e-9;
  return Math.abs(x.achieved - x.planned) > 0.01;
}

export const sharesSection: ReportSection<'shares', SharesSection | Missing> = {
  key: 'shares',
  title: 'Planned vs achieved shares',

  collect({ plan, buckets }) {
    if (!plan) return NO_PLAN;
    const achievedTotal = buckets?.reduce((a, b) => a + b.tokens, 0) ?? 0;
    const achievedBy = (pred: (b: ManifestBucket) => boolean) =>
      buckets && achievedTotal > 0 ? buckets.filter(pred).reduce((a, b) => a + b.tokens, 0) / achievedTotal : undefined;
    const rows: SharesSection['rows'] = Object.entries(plan.shares.category).map(([name, s]) => ({
      name,
      natural: s.natural,
      planned: s.planned,
      ...opt('achieved', achievedBy((b) => b.category === name)),
      ...opt('min', s.min),
      ...opt('max', s.max),
    }));
    const ne = plan.shares.non_english;
    rows.push({ name: 'non_english', natural: ne.natural, planned: ne.planned, ...opt('achieved', achievedBy((b) => isNonEnglish(b.language, b.category))), ...opt('min', ne.min), ...opt('max', ne.max) });
    const achievedOf = new Map<string, number>();
    for (const b of buckets ?? []) {
      const id = bucketId(b);
      achievedOf.set(id, (achievedOf.get(id) ?? 0) + b.tokens);
    }
    const bucketRows = plan.buckets
      .filter((b) => b.tokens > 0 || achievedOf.has(b.id))
      .map((b) => ({ id: b.id, planned_tokens: b.tokens, ...opt('achieved_tokens', buckets ? (achievedOf.get(b.id) ?? 0) : undefined), cut: b.cut !== undefined }));
    return { available: true, plan_status: plan.status, rows, buckets: bucketRows };
  },

  text: (data) =>
    availableText(data, (s) => {
      const tables = [
        table(
          ['category', 'natural', 'target', 'planned', 'achieved', 'achieved − planned'],
          s.rows.map((x) => [
            x.name,
            pct(x.natural),
            x.min !== undefined ? `${pct(x.min)}–${pct(x.max ?? 1)}` : '(free)',
            pct(x.planned),
            maybe(x.achieved, pct),
            x.achieved === undefined ? '–' : `${((x.achieved - x.planned) * 100).toFixed(2)} pp`,
          ]),
        ),
      ];
      if (s.buckets.length > 0) {
        tables.push(
          table(
            ['bucket', 'planned tokens', 'achieved tokens', 'achieved − planned', 'sampling'],
            s.buckets.map((x) => [x.id, n(x.planned_tokens), maybe(x.achieved_tokens, n), x.achieved_tokens === undefined ? '–' : n(x.achieved_tokens - x.planned_tokens), x.cut ? 'hash cut' : 'per document']),
            [false, true, true, true, false],
          ),
        );
      }
      return { notes: [`Plan status: ${s.plan_status}. Achieved shares come from the tokenized manifest${s.rows.some((x) => x.achieved !== undefined) ? '' : ' (not run: no manifest)'}.`], tables };
    }),

  charts(data) {
    if (!data.available) return [];
    const values = data.rows.flatMap((s) => [
      { category: s.name, series: 'natural', share: s.natural },
      { category: s.name, series: 'planned', share: s.planned },
      ...(s.achieved !== undefined ? [{ category: s.name, series: 'achieved', share: s.achieved }] : []),
    ]);
    const bars = groupedRows('Share of tokens: natural, planned, achieved; target range as a black line, misses marked', values, 'category', 'series', ['natural', 'planned', 'achieved'], 'share', 'share of tokens', '.0%');
    const ranges = data.rows.filter((x) => x.min !== undefined || x.max !== undefined).map((x) => ({ category: x.name, min: x.min ?? 0, max: x.max ?? 1 }));
    const misses = data.rows.flatMap((x) => (shareMissed(x) && x.achieved !== undefined ? [{ category: x.name, share: x.achieved, label: 'miss' }] : []));
    const { mark, encoding, data: values_, ...top } = bars as unknown as Record<string, unknown>;
    return [
      {
        ...top,
        layer: [
          { data: values_, mark, encoding },
          ...(ranges.length ? [{ data: { values: ranges }, mark: { type: 'rule', color: '#111', strokeWidth: 2 }, encoding: { y: { field: 'category', type: 'nominal' }, x: { field: 'min', type: 'quantitative' }, x2: { field: 'max' } } }] : []),
          ...(misses.length ? [{ data: { values: misses }, mark: { type: 'text', color: '#d62728', align: 'left', dx: 4, fontWeight: 'bold' }, encoding: { y: { field: 'category', type: 'nominal' }, x: { field: 'share', type: 'quantitative' }, text: { field: 'label' } } }] : []),
        ],
      } as TopLevelSpec,
    ];
  },
};
