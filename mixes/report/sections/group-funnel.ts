/** Funnel per source and per language: where each group's documents went, stage by stage. */
import type { TopLevelSpec } from 'vega-lite';
import { formatTokens, pct } from '../../figures.ts';
import { base, type Row } from '../chart-specs.ts';
import { label, tokensOf } from '../settled-figures.ts';
import { n, table, type ReportSection, type SectionTally, type Table } from '../section.ts';

export interface StageFunnelRow {
  stage: string;
  in: number;
  kept: number;
  rejected: number;
  errored: number;
  /** Tokens of the documents entering and leaving the stage, estimated from each document's final text. */
  tokens_in: number;
  tokens_out: number;
}

type Groups = Record<string, StageFunnelRow[]>;

/** Per group, per stage (the config's order): the documents that left there, rejected or errored, with their tokens; and what was kept. */
interface GroupCounts {
  rejected: number[];
  errored: number[];
  rejectedTokens: number[];
  erroredTokens: number[];
  kept: number;
  keptTokens: number;
}

type GroupTally = Record<string, GroupCounts>;

function addInto(into: number[], part: number[]): void {
  part.forEach((x, i) => (into[i] = (into[i] ?? 0) + x));
}

function groupTally(field: 'source' | 'language'): SectionTally<GroupTally> {
  return {
    start({ stages }) {
      const groups: GroupTally = {};
      const zeros = () => new Array<number>(stages.length).fill(0);
      return {
        add({ outcome, doc, stage, unreadable }) {
          // Unreadable input records never reached a stage.
          if (unreadable || (outcome !== 'kept' && (stage === undefined || stage >= stages.length))) return;
          const g = (groups[label(doc.meta[field])] ??= { rejected: zeros(), errored: zeros(), rejectedTokens: zeros(), erroredTokens: zeros(), kept: 0, keptTokens: 0 });
          const tokens = tokensOf(doc);
          if (outcome === 'kept' || stage === undefined) {
            g.kept++;
            g.keptTokens += tokens;
          } else if (outcome === 'errored') {
            g.errored[stage] = (g.errored[stage] ?? 0) + 1;
            g.erroredTokens[stage] = (g.erroredTokens[stage] ?? 0) + tokens;
          } else {
            g.rejected[stage] = (g.rejected[stage] ?? 0) + 1;
            g.rejectedTokens[stage] = (g.rejectedTokens[stage] ?? 0) + tokens;
          }
        },
        part: () => groups,
      };
    },
    merge(into, part) {
      for (const [name, g] of Object.entries(part)) {
        const o = into[name];
        if (!o) into[name] = structuredClone(g);
        else {
          addInto(o.rejected, g.rejected);
          addInto(o.errored, g.errored);
          addInto(o.rejectedTokens, g.rejectedTokens);
          addInto(o.erroredTokens, g.erroredTokens);
          o.kept += g.kept;
          o.keptTokens += g.keptTokens;
        }
      }
      return into;
    },
  };
}

function funnelRows(g: GroupCounts, stages: string[]): StageFunnelRow[] {
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  const rows: StageFunnelRow[] = [];
  let docs = g.kept + sum(g.rejected) + sum(g.errored);
  let tokens = g.keptTokens + sum(g.rejectedTokens) + sum(g.erroredTokens);
  for (const [i, stage] of stages.entries()) {
    const rejected = g.rejected[i] ?? 0;
    const errored = g.errored[i] ?? 0;
    const out = docs - rejected - errored;
    const tokensOut = tokens - (g.rejectedTokens[i] ?? 0) - (g.erroredTokens[i] ?? 0);
    rows.push({ stage, in: docs, kept: out, rejected, errored, tokens_in: tokens, tokens_out: tokensOut });
    docs = out;
    tokens = tokensOut;
  }
  return rows;
}

/**
 * A funnel per group as one table: per group its documents in, what each stage removed
 * (rejected + errored; only stages that removed something) and what was kept.
 */
function groupFunnelTable(label: string, groups: Groups): Table | undefined {
  const entries = Object.entries(groups);
  const firstGroup = entries[0]?.[1];
  if (!firstGroup) return undefined;
  const stages = firstGroup.map((x) => x.stage).filter((st) => entries.some(([, rows]) => rows.some((x) => x.stage === st && x.rejected + x.errored > 0)));
  const rows = entries
    .map(([g, rows]) => {
      const first = rows[0];
      const last = rows[rows.length - 1];
      const removed = stages.map((st) => {
        const x = rows.find((y) => y.stage === st);
        return x && x.rejected + x.errored ? n(x.rejected + x.errored) : '·';
      });
      return { group: g, in: first?.in ?? 0, cells: [g, n(first?.in ?? 0), ...removed, n(last?.kept ?? 0), first && first.in ? pct((last?.kept ?? 0) / first.in) : '–', formatTokens(last?.tokens_out ?? 0)] };
    })
    .sort((a, b) => b.in - a.in || (a.group < b.group ? -1 : 1));
  return table([label, 'in', ...stages.map((st) => `− ${st}`), 'kept', 'kept %', 'tokens kept'], rows.map((x) => x.cells));
}

/** Where the documents of each group went: kept, or removed by which stage. */
function groupFunnelChart(title: string, groups: Groups): TopLevelSpec | undefined {
  const entries = Object.entries(groups);
  const firstGroup = entries[0]?.[1];
  if (!firstGroup) return undefined;
  const values: Row[] = [];
  const stages: string[] = [];
  for (const [g, rows] of entries) {
    for (const x of rows) {
      const removed = x.rejected + x.errored;
      if (!removed) continue;
      if (!stages.includes(x.stage)) stages.push(x.stage);
      values.push({ group: g, outcome: `removed by ${x.stage}`, docs: removed });
    }
    values.push({ group: g, outcome: 'kept', docs: rows[rows.length - 1]?.kept ?? 0 });
  }
  const order = ['kept', ...firstGroup.map((x) => x.stage).filter((st) => stages.includes(st)).map((st) => `removed by ${st}`)];
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

function groupFunnelSection<K extends 'funnel_by_source' | 'funnel_by_language'>(key: K, title: string, field: 'source' | 'language', chartTitle: string): ReportSection<K, Groups, GroupTally> {
  return {
    key,
    title,
    tally: groupTally(field),
    collect({ stats, tallies }) {
      const groups = tallies[key] as GroupTally | undefined;
      if (!stats?.stages.length || !groups) return {};
      const stages = stats.stages.map((s) => s.name);
      return Object.fromEntries(Object.entries(groups).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([g, counts]) => [g, funnelRows(counts, stages)]));
    },
    text(groups, { documents_basis }) {
      const none = documents_basis.startsWith('not run');
      if (none || !Object.keys(groups).length) return { notes: [none ? documents_basis : 'not run: no stats.json with the run\'s stages'], tables: [] };
      const t = groupFunnelTable(field, groups);
      return {
        notes: [`From ${documents_basis}: per meta.${field}, the documents each stage removed (rejected or errored; · for none). Unreadable input records are not counted. Tokens are estimated from each document's final text (meta.num_tokens, else UTF-8 bytes / 4); report.json has every stage with tokens in and out.`],
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
