/** Epochs per source: how many times the plan draws each source's tokens, and how many the manifest holds. */
import { formatTokens } from '../../figures.ts';
import { groupedRows } from '../chart-specs.ts';
import { availableText, maybe, opt, table, type Missing, type ReportSection } from '../section.ts';
import { NO_PLAN } from './plan-missing.ts';

export interface EpochsSection {
  available: true;
  rows: { source: string; available_tokens: number; planned_epochs: number; achieved_epochs?: number }[];
}

export const epochsSection: ReportSection<'epochs', EpochsSection | Missing> = {
  key: 'epochs',
  title: 'Epochs per source',

  collect({ plan, buckets }) {
    if (!plan) return NO_PLAN;
    return {
      available: true,
      rows: Object.entries(plan.shares.source).map(([source, s]) => {
        const achievedTokens = buckets?.filter((b) => b.source === source).reduce((a, b) => a + b.tokens, 0);
        return {
          source,
          available_tokens: s.available_tokens,
          planned_epochs: s.epochs,
          ...opt('achieved_epochs', achievedTokens !== undefined && s.available_tokens > 0 ? achievedTokens / s.available_tokens : undefined),
        };
      }),
    };
  },

  text: (data) =>
    availableText(data, (e) => ({
      notes: [],
      tables: [table(['source', 'tokens available', 'planned epochs', 'achieved epochs'], e.rows.map((x) => [x.source, formatTokens(x.available_tokens), x.planned_epochs.toFixed(3), maybe(x.achieved_epochs, (v) => v.toFixed(3))]))],
    })),

  charts(data) {
    if (!data.available) return [];
    const values = data.rows.flatMap((s) => [{ source: s.source, series: 'planned', epochs: s.planned_epochs }, ...(s.achieved_epochs !== undefined ? [{ source: s.source, series: 'achieved', epochs: s.achieved_epochs }] : [])]);
    return [groupedRows('Epochs per source (tokens drawn / tokens available)', values, 'source', 'series', ['planned', 'achieved'], 'epochs', 'epochs')];
  },
};
