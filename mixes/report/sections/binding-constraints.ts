/** Constraints that bind: the mix plan's constraints that hold the plan away from the natural distribution. */
import { formatTokens } from '../../figures.ts';
import { availableText, table, type Missing, type ReportSection } from '../section.ts';
import { NO_PLAN } from './plan-missing.ts';

export interface ConstraintsSection {
  available: true;
  rows: { key: string; kind: string; bound: string; shortfall_tokens: number; message: string }[];
}

export const bindingConstraintsSection: ReportSection<'binding_constraints', ConstraintsSection | Missing> = {
  key: 'binding_constraints',
  title: 'Constraints that bind',
  collect: ({ plan }) =>
    plan
      ? { available: true, rows: plan.constraints.filter((c) => c.binding).map((c) => ({ key: c.key, kind: c.kind, bound: c.bound, shortfall_tokens: c.shortfall_tokens, message: c.message })) }
      : NO_PLAN,
  text: (data) =>
    availableText(data, (c) =>
      c.rows.length
        ? { notes: [], tables: [table(['constraint', 'kind', 'bound', 'shortfall', 'detail'], c.rows.map((x) => [x.key, x.kind, x.bound, x.shortfall_tokens ? formatTokens(x.shortfall_tokens) : '0', x.message]), [false, false, false, true, false])] }
        : { notes: ['No constraint binds: the plan is the natural distribution.'], tables: [] },
    ),
  charts: () => [],
};
