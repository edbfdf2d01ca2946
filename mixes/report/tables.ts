/** The report's sections as titled tables, shared by report.md and report.html. */
import { formatTokens, pct } from '../planner.ts';
import type { RunReport } from './data.ts';

export interface Table {
  /** A title above the table (e.g. the rule whose examples it lists). */
  caption?: string;
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
  ['funnel_by_source', 'Funnel per source'],
  ['funnel_by_language', 'Funnel per language'],
  ['examples', 'Examples per rule'],
  ['histograms', 'Measurements: kept against rejected'],
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

/** Compact number for a measurement: integers with separators, else 4 significant digits. */
export function measureNumber(x: number): string {
  return Number.isInteger(x) ? n(x) : String(Number(x.toPrecision(4)));
}

/**
 * A funnel per group as one table: per group its documents in, what each stage removed
 * (rejected + errored; only stages that removed something) and what was kept.
 */
function groupFunnelTable(label: string, groups: Record<string, { stage: string; in: number; kept: number; rejected: number; errored: number; tokens_in: number; tokens_out: number }[]>): Table | undefined {
  const names = Object.keys(groups);
  if (!names.length) return undefined;
  const stages = groups[names[0]!]!.map((x) => x.stage).filter((st) => names.some((g) => groups[g]!.some((x) => x.stage === st && x.rejected + x.errored > 0)));
  const rows = names
    .map((g) => {
      const rows = groups[g]!;
      const first = rows[0];
      const last = rows[rows.length - 1];
      const removed = stages.map((st) => {
        const x = rows.find((y) => y.stage === st)!;
        return x.rejected + x.errored ? n(x.rejected + x.errored) : '·';
      });
      return { in: first?.in ?? 0, cells: [g, n(first?.in ?? 0), ...removed, n(last?.kept ?? 0), first && first.in ? pct((last?.kept ?? 0) / first.in) : '–', formatTokens(last?.tokens_out ?? 0)] };
    })
    .sort((a, b) => b.in - a.in || (a.cells[0]! < b.cells[0]! ? -1 : 1));
  return table([label, 'in', ...stages.map((st) => `− ${st}`), 'kept', 'kept %', 'tokens kept'], rows.map((x) => x.cells));
}

function documentSection(s: Section, r: RunReport): void {
  const none = r.documents_basis.startsWith('not run');
  switch (s.key) {
    case 'funnel_by_source':
    case 'funnel_by_language': {
      const groups = r[s.key];
      if (none || !Object.keys(groups).length) {
        s.notes.push(none ? r.documents_basis : 'not run: no stats.json with the run\'s stages');
        return;
      }
      s.notes.push(`From ${r.documents_basis}: per ${s.key === 'funnel_by_source' ? 'meta.source' : 'meta.language'}, the documents each stage removed (rejected or errored; · for none). Unreadable input records are not counted. Tokens are estimated from each document's final text (meta.num_tokens, else UTF-8 bytes / 4); report.json has every stage with tokens in and out.`);
      const t = groupFunnelTable(s.key === 'funnel_by_source' ? 'source' : 'language', groups);
      if (t) s.tables.push(t);
      return;
    }
    case 'examples': {
      const rules = Object.keys(r.examples);
      if (none || !rules.length) {
        s.notes.push(none ? r.documents_basis : 'No document was rejected.');
        return;
      }
      s.notes.push(`A seeded sample of the documents each rule rejected, from ${r.documents_basis}; \`refinery inspect <run> --reason <stage:rule>\` shows more.`);
      for (const rule of rules) {
        const ex = r.examples[rule]!;
        s.tables.push({
          caption: rule,
          headers: ['id', 'source', 'language', 'measured', 'threshold', 'text'],
          numeric: [false, false, false, true, true, false],
          rows: ex.map((e) => [e.id, e.source, e.language, e.value !== undefined ? measureNumber(e.value) : (e.detail ?? '–'), e.threshold !== undefined ? measureNumber(e.threshold) : '–', e.preview]),
        });
      }
      return;
    }
    case 'histograms': {
      const fields = Object.values(r.histograms);
      if (none || !fields.length) {
        s.notes.push(none ? r.documents_basis : 'No numeric measurement in the documents\' meta.');
        return;
      }
      s.notes.push(`From ${r.documents_basis}. Rejected counts every rejected document that carries the measurement, whichever rule rejected it. Charts show the measurements a rule compares with a threshold, and scores; report.json has a histogram of every one.`);
      s.tables.push(
        table(
          ['measurement', 'kept', 'rejected', 'min', 'max', 'threshold', 'rules'],
          fields.map((h) => [h.field, n(h.kept), n(h.rejected), measureNumber(h.min), measureNumber(h.max), h.thresholds.map((t) => `${t.drops === 'above' ? '>' : '<'} ${measureNumber(t.value)}`).join(', ') || '–', h.rules.join(', ') || '–']),
          [false, true, true, true, true, false, false],
        ),
      );
      return;
    }
    default:
      return;
  }
}

export function reportSections(r: RunReport): Section[] {
  return SECTION_TITLES.map(([key, title]) => {
    const s: Section = { key, title, notes: [], tables: [] };
    if (key === 'examples' || key === 'funnel_by_source' || key === 'funnel_by_language' || key === 'histograms') {
      documentSection(s, r);
      return s;
    }
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
        for (const x of r.dedup.stages) {
          if (!x.examples?.length) continue;
          s.tables.push({
            caption: `${x.stage}: example clusters (seeded sample; \`refinery inspect <run> --cluster <id>\` shows one whole)`,
            headers: ['cluster', 'document', 'id', 'text'],
            numeric: [false, false, false, false],
            rows: x.examples.flatMap((c) => [
              ...(c.kept ? [[c.cluster, 'kept', c.kept.id, c.kept.preview]] : []),
              ...c.duplicates.map((d) => [c.cluster, 'duplicate', d.id, d.preview]),
            ]),
          });
        }
        break;
      }
      case 'languages': {
        if (!r.languages.available) break;
        const total = r.languages.rows.reduce((a, x) => a + x.tokens, 0);
        s.notes.push(`From ${r.languages.basis}. Human languages and programming languages (documents of category code) are listed apart; shares are of all tokens.`);
        for (const kind of ['natural', 'programming'] as const) {
          const rows = r.languages.rows.filter((x) => x.kind === kind);
          if (rows.length) s.tables.push(table([kind === 'natural' ? 'language' : 'programming language', 'documents', 'tokens', 'share'], rows.map((x) => [x.name, n(x.docs), formatTokens(x.tokens), total ? pct(x.tokens / total) : '–'])));
        }
        break;
      }
      case 'quality_scores': {
        if (!r.quality_scores.available) break;
        s.notes.push(`From ${r.quality_scores.basis}.`);
        const q = r.quality_scores;
        for (const f of q.fields) {
          if (f.count < q.docs) s.notes.push(`${f.field}: ${n(f.count)} of the ${n(q.docs)} documents carry it; ${n(q.docs - f.count)} do not (source code is not scored: langid leaves code\'s language as it is, and the quality stage skips code unless skip_code is false).`);
        }
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
