/** Filter funnel: per stage what came in, was kept, rejected and errored, and per rule what it removed. */
import type { TopLevelSpec } from 'vega-lite';
import { formatTokens, pct } from '../../figures.ts';
import { BYTES_PER_TOKEN_ESTIMATE } from '../../census.ts';
import { base, hbar, TOP } from '../chart-specs.ts';
import { tokensOf } from '../settled-figures.ts';
import { availableText, countersByKey, maybe, missing, n, opt, table, type Missing, type ReportSection } from '../section.ts';
import type { StageStats } from '../../../pipeline/stats.ts';

export interface FunnelSection {
  available: true;
  totals: { in: number; kept: number; rejected: number; errored: number };
  /** A stage's counts as stats.json has them, with what it removed. */
  stages: (Pick<StageStats, 'name' | 'kind' | 'in' | 'kept' | 'rejected' | 'errored' | 'seconds'> & {
    bytes_removed: number;
    /** bytes_removed / BYTES_PER_TOKEN_ESTIMATE (covers mappers that remove lines, too). */
    tokens_removed_estimate: number;
    /** Tokens of this stage's documents in rejected/, when it was read. */
    tokens_rejected?: number;
  })[];
  rules: { stage: string; rule: string; docs: number; tokens?: number }[];
  /** Where per-rule tokens come from, when rejected/ was read. */
  rule_tokens_note?: string;
}

/** Per reject reason `stage:rule`: the documents and tokens it rejected. */
type RuleTally = Record<string, { docs: number; tokens: number }>;

export const funnelSection: ReportSection<'funnel', FunnelSection | Missing, RuleTally> = {
  key: 'funnel',
  title: 'Filter funnel',

  tally: countersByKey(
    () => ({ docs: 0, tokens: 0 }),
    ({ outcome, doc }, of) => {
      const reason = doc.meta.reject_reason;
      if (outcome !== 'rejected' || typeof reason !== 'string') return;
      const r = of(reason);
      r.docs++;
      r.tokens += tokensOf(doc);
    },
  ),

  collect({ statsRaw, stats, tallies, documents }) {
    if (!stats) return missing(statsRaw === undefined ? 'not run: no stats.json in the run folder' : 'stats.json is not in the expected shape');
    const tallied = documents && documents.rejected > 0 ? (tallies.funnel as RuleTally | undefined) : undefined;
    const ruleTokens = new Map(Object.entries(tallied ?? {}));
    const rules: FunnelSection['rules'] = [];
    for (const s of stats.stages) {
      for (const [rule, docs] of Object.entries(s.reasons)) {
        const t = ruleTokens.get(`${s.name}:${rule}`);
        rules.push({ stage: s.name, rule, docs, ...(t ? { tokens: t.tokens } : {}) });
      }
    }
    rules.sort((a, b) => b.docs - a.docs || (a.stage + a.rule < b.stage + b.rule ? -1 : 1));
    return {
      available: true,
      totals: { in: stats.totals.in, kept: stats.totals.kept, rejected: stats.totals.rejected, errored: stats.totals.errored },
      stages: stats.stages.map((s) => {
        const removed = Math.max(0, s.bytes_in - s.bytes_out);
        const rejectedTokens = tallied
          ? [...ruleTokens.entries()].filter(([reason]) => reason.startsWith(`${s.name}:`)).reduce((a, [, v]) => a + v.tokens, 0)
          : undefined;
        return {
          name: s.name,
          kind: s.kind,
          in: s.in,
          kept: s.kept,
          rejected: s.rejected,
          errored: s.errored,
          bytes_removed: removed,
          tokens_removed_estimate: Math.round(removed / BYTES_PER_TOKEN_ESTIMATE),
          ...opt('tokens_rejected', rejectedTokens),
          seconds: s.seconds,
        };
      }),
      rules,
      ...(tallied && documents ? { rule_tokens_note: `from ${documents.basisOf(['rejected'])} (meta.num_tokens, else UTF-8 bytes / ${BYTES_PER_TOKEN_ESTIMATE})` } : {}),
    };
  },

  text: (data) =>
    availableText(data, (f) => {
      const t = f.totals;
      const notes = [`Documents in ${n(t.in)}; kept ${n(t.kept)} (${t.in ? pct(t.kept / t.in) : '–'}), rejected ${n(t.rejected)}, errored ${n(t.errored)}. Tokens removed are estimated from bytes removed (UTF-8 bytes / 4); tokens rejected are counted in rejected/.`];
      const tables = [
        table(
          ['stage', 'kind', 'in', 'kept', 'rejected', 'errored', 'bytes removed', 'tokens removed (est.)', 'tokens rejected', 'seconds'],
          f.stages.map((x) => [x.name, x.kind, n(x.in), n(x.kept), n(x.rejected), n(x.errored), n(x.bytes_removed), formatTokens(x.tokens_removed_estimate), maybe(x.tokens_rejected, formatTokens), x.seconds.toFixed(2)]),
          [false, false, true, true, true, true, true, true, true, true],
        ),
      ];
      if (f.rules.length) {
        if (f.rule_tokens_note) notes.push(`Tokens rejected per stage and rule: ${f.rule_tokens_note}.`);
        tables.push(table(['stage', 'rule', 'documents', 'tokens'], f.rules.map((x) => [x.stage, x.rule, n(x.docs), maybe(x.tokens, formatTokens)]), [false, false, true, true]));
      }
      return { notes, tables };
    }),

  charts(data) {
    if (!data.available || !data.stages.length) return [];
    const order = data.stages.map((s) => s.name);
    const values = data.stages.flatMap((s) => [
      { stage: s.name, outcome: 'kept', docs: s.kept },
      { stage: s.name, outcome: 'rejected', docs: s.rejected },
      { stage: s.name, outcome: 'errored', docs: s.errored },
    ]);
    const out: TopLevelSpec[] = [
      {
        ...base('Documents per stage: kept, rejected, errored', values),
        mark: { type: 'bar', tooltip: true },
        encoding: {
          y: { field: 'stage', type: 'nominal', sort: order, title: null },
          x: { field: 'docs', type: 'quantitative', title: 'documents', stack: 'zero' },
          color: { field: 'outcome', type: 'nominal', scale: { domain: ['kept', 'rejected', 'errored'], range: ['#4c78a8', '#e45756', '#b279a2'] } },
          order: { field: 'outcome', sort: 'descending' },
        },
      } as TopLevelSpec,
    ];
    if (data.rules.length) {
      const rules = data.rules.slice(0, TOP).map((x) => ({ rule: `${x.stage}:${x.rule}`, docs: x.docs }));
      out.push(hbar(`Documents removed per rule${data.rules.length > TOP ? ` (top ${TOP})` : ''}`, rules, 'rule', 'docs', 'documents'));
    }
    return out;
  },
};
