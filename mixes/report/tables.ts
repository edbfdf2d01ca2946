/** The report's sections as titled tables, shared by report.md and report.html. */
import { formatTokens, pct } from '../planner.ts';
import type { RunReport } from './data.ts';

export interface Table {
  headers: string[];
  /** Right-aligned columns (numbers). */
  numeric: boolean[];
  rows: string[][];
}

export interface Section {
  key: keyof RunReport;
  title: string;
  /** "not run: ..." or the basis of the figures. */
  notes: string[];
  tables: Table[];
}

export const SECTION_TITLES: [keyof RunReport, string][] = [
  ['funnel', 'Filter funnel'],
  ['dedup', 'Deduplication clusters'],
  ['languages', 'Languages'],
  ['quality_scores', 'Quality scores'],
  ['buckets', 'Tokens per bucket'],
  ['shares', 'Planned vs achieved shares'],
  ['epochs', 'Epochs per source'],
  ['binding_constraints', 'Constraints that bind'],
];

const n = (x: number) => x.toLocaleString('en-US');
const maybe = (x: number | undefined, f: (v: number) => string) => (x === undefined ? '–' : f(x));

function table(headers: string[], rows: string[][], numeric?: boolean[]): Table {
  return { headers, rows, numeric: numeric ?? headers.map((_, i) => i > 0) };
}

export function reportSections(r: RunReport): Section[] {
  return SECTION_TITLES.map(([key, title]) => {
    const s: Section = { key, title, notes: [], tables: [] };
    const part = r[key];
    if (typeof part !== 'object' || part === null || !('available' in part)) return s;
    if (!part.available) {
      s.notes.push(part.note);
      return s;
    }
    switch (key) {
      case 'funnel': {
        const f = r.funnel;
        if (!f.available) break;
        const t = f.totals;
        s.notes.push(`Documents in ${n(t.in)}; kept ${n(t.kept)} (${t.in ? pct(t.kept / t.in) : '–'}), rejected ${n(t.rejected)}, errored ${n(t.errored)}. Tokens removed are estimated from bytes removed (UTF-8 bytes / 4); tokens rejected are counted in rejected/.`);
        s.tables.push(
          table(
            ['stage', 'kind', 'in', 'kept', 'rejected', 'errored', 'bytes removed', 'tokens removed (est.)', 'tokens rejected', 'seconds'],
            f.stages.map((x) => [x.name, x.kind, n(x.in), n(x.kept), n(x.rejected), n(x.errored), n(x.bytes_removed), formatTokens(x.tokens_removed_estimate), maybe(x.tokens_rejected, formatTokens), x.seconds.toFixed(2)]),
            [false, false, true, true, true, true, true, true, true, true],
          ),
        );
        if (f.rules.length) {
          if (f.rule_tokens_note) s.notes.push(`Tokens rejected per stage and rule: ${f.rule_tokens_note}.`);
          s.tables.push(table(['stage', 'rule', 'documents', 'tokens'], f.rules.map((x) => [x.stage, x.rule, n(x.docs), maybe(x.tokens, formatTokens)]), [false, false, true, true]));
        }
        break;
      }
      case 'dedup': {
        if (!r.dedup.available) break;
        s.tables.push(table(['stage', 'clusters', 'documents removed', 'bytes removed'], r.dedup.stages.map((x) => [x.stage, n(x.clusters), maybe(x.removed_docs, n), maybe(x.removed_bytes, n)])));
        for (const x of r.dedup.stages) if (x.model) s.notes.push(`${x.stage} embeds with the ${x.model}.`);
        for (const x of r.dedup.stages) if (x.histogram.length) s.tables.push(table([`${x.stage}: cluster size`, 'clusters'], x.histogram.map((h) => [h.size, n(h.clusters)])));
        break;
      }
      case 'languages': {
        if (!r.languages.available) break;
        const total = r.languages.rows.reduce((a, x) => a + x.tokens, 0);
        s.notes.push(`From ${r.languages.basis}.`);
        s.tables.push(table(['language', 'documents', 'tokens', 'share'], r.languages.rows.map((x) => [x.name, n(x.docs), formatTokens(x.tokens), total ? pct(x.tokens / total) : '–'])));
        break;
      }
      case 'quality_scores': {
        if (!r.quality_scores.available) break;
        s.notes.push(`From ${r.quality_scores.basis}.`);
        s.tables.push(table(['field', 'documents', 'min', 'mean', 'max'], r.quality_scores.fields.map((x) => [x.field, n(x.count), x.min.toFixed(3), x.mean.toFixed(3), x.max.toFixed(3)])));
        break;
      }
      case 'buckets': {
        if (!r.buckets.available) break;
        s.notes.push(`From ${r.buckets.basis}.`);
        s.tables.push(
          table(
            ['source', 'category', 'language', 'quality band', 'documents', 'tokens'],
            [...r.buckets.rows].sort((a, b) => b.tokens - a.tokens).map((x) => [x.source, x.category, x.language, x.quality_band, n(x.docs), formatTokens(x.tokens)]),
            [false, false, false, false, true, true],
          ),
        );
        break;
      }
      case 'shares': {
        if (!r.shares.available) break;
        s.notes.push(`Plan status: ${r.shares.plan_status}. Achieved shares come from the tokenized manifest${r.shares.rows.some((x) => x.achieved !== undefined) ? '' : ' (not run: no manifest)'}.`);
        s.tables.push(
          table(
            ['category', 'natural', 'target', 'planned', 'achieved', 'achieved − planned'],
            r.shares.rows.map((x) => [
              x.name,
              pct(x.natural),
              x.min !== undefined ? `${pct(x.min)}–${pct(x.max ?? 1)}` : '(free)',
              pct(x.planned),
              maybe(x.achieved, pct),
              x.achieved === undefined ? '–' : `${((x.achieved - x.planned) * 100).toFixed(2)} pp`,
            ]),
          ),
        );
        if (r.shares.buckets.length > 0) {
          s.tables.push(
            table(
              ['bucket', 'planned tokens', 'achieved tokens', 'achieved − planned', 'sampling'],
              r.shares.buckets.map((x) => [
                x.id,
                n(x.planned_tokens),
                maybe(x.achieved_tokens, n),
                x.achieved_tokens === undefined ? '–' : n(x.achieved_tokens - x.planned_tokens),
                x.cut ? 'hash cut' : 'per document',
              ]),
              [false, true, true, true, false],
            ),
          );
        }
        break;
      }
      case 'epochs': {
        if (!r.epochs.available) break;
        s.tables.push(table(['source', 'tokens available', 'planned epochs', 'achieved epochs'], r.epochs.rows.map((x) => [x.source, formatTokens(x.available_tokens), x.planned_epochs.toFixed(3), maybe(x.achieved_epochs, (v) => v.toFixed(3))])));
        break;
      }
      case 'binding_constraints': {
        if (!r.binding_constraints.available) break;
        if (!r.binding_constraints.rows.length) s.notes.push('No constraint binds: the plan is the natural distribution.');
        else s.tables.push(table(['constraint', 'kind', 'bound', 'shortfall', 'detail'], r.binding_constraints.rows.map((x) => [x.key, x.kind, x.bound, x.shortfall_tokens ? formatTokens(x.shortfall_tokens) : '0', x.message]), [false, false, false, true, false]));
        break;
      }
    }
    return s;
  });
}
