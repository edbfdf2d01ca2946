/** Funnel per source and per language: where each group's documents went, stage by stage. */
import type { TopLevelSpec } from 'vega-lite';
import { formatTokens, pct } from '../../planner.ts';
import { base, type Row } from '../charts.ts';
import type { StageFunnelRow } from '../documents.ts';
import { n, table, type ReportSection, type Table } from '../section.ts';

type Groups = Record<string, StageFunnelRow[]>;

/**
 * A funnel per group as one table: per group its documents in, what each stage removed
 * (rejected + errored; only stages that removed something) and what was kept.
 */
function groupFunnelTable(label: string, groups: Groups): Table | undefined {
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

/** Where the documents of each group went: kept, or removed by which stage. */
function groupFunnelChart(title: string, groups: Groups): TopLevelSpec | undefined {
  const names = Object.keys(groups);
  if (!names.length) return undefined;
  const values: Row[] = [];
  const stages: string[] = [];
  for (const g of names) {
    const rows = groups[g]!;
    for (const x of rows) {
      const removed = x.rejected + x.errored;
      if (!removed) continue;
      if (!stages.includes(x.stage)) stages.push(x.stage);
      values.push({ group: g, outcome: `removed by ${x.stage}`, docs: removed });
    }
    values.push({ group: g, outcome: 'kept', docs: rows[rows.length - 1]?.kept ?? 0 });
  }
  const order = ['kept', ...groups[names[0]!]!.map((x) => x.stage).filter((st) => stages.includes(st)).map((st) => `removed by ${st}`)];
  return {
    ...base(title, values),
    height: { step: 18 },
    mark: { type: 'bar', tooltip: true },
    encoding: {
      y: { field: 'group', type: 'nominal', title: null, sort: '-x' },
      x: { field: 'docs', type: 'quantitative', title: 'documents', stack: 'zero' },
      color: { field: 'outcome', type: 'nominal', title: null, sort: order, legend: { orient: 'bottom', columns: 3 }, scale: { domain: order, range: ['#4c78a8', '#e45756', '#f58518', '#eeca3b', '#b279a2', '#ff9da6', '#9d755d', '#bab0ac', '#72b7b2', '#54a24b', '#d67195', '#fc8d62', '#8da0cb', '#a6d854', '#ffd92f', '#e5c494', '#b3b3b3'] } },
      order: { field: 'outcome', sort: 'ascending' },
    },
  } as TopLevelSpec;
}

function groupFunnelSection<K extends 'funnel_by_source' | 'funnel_by_language'>(key: K, title: string, label: 'source' | 'language', chartTitle: string): ReportSection<K, Groups> {
  return {
    key,
    title,
    collect: ({ stats, views }) => (stats?.stages.length ? ((key === 'funnel_by_source' ? views?.funnel_by_source : views?.funnel_by_language) ?? {}) : {}),
    text(groups, { documents_basis }) {
      const none = documents_basis.startsWith('not run');
      if (none || !Object.keys(groups).length) return { notes: [none ? documents_basis : 'not run: no stats.json with the run\'s stages'], tables: [] };
      const t = groupFunnelTable(label, groups);
      return {
        notes: [`From ${documents_basis}: per meta.${label}, the documents each stage removed (rejected or errored; · for none). Unreadable input records are not counted. Tokens are estimated from each document's final text (meta.num_tokens, else UTF-8 bytes / 4); report.json has every stage with tokens in and out.`],
        tables: t ? [t] : [],
      };
    },
    charts(groups) {
      const chart = groupFunnelChart(chartTitle, groups);
      return chart ? [chart] : [];
    },
  };
}

export const funnelBySourceSection = groupFunnelSection('funnel_by_source', 'Funnel per source', 'source', 'Where each source\'s documents went');
export const funnelByLanguageSection = groupFunnelSection('funnel_by_language', 'Funnel per language', 'language', 'Where each language\'s documents went');
