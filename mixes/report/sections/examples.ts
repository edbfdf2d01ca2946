/** Examples per rule: a seeded sample of the documents each reject rule dropped, with what it measured and the threshold it was judged by. */
import { previewText } from '../../inspect.ts';
import { measurementOf } from '../measures.ts';
import { label, lowestRanked, RankedSample, type Ranked } from '../settled-figures.ts';
import { measureNumber, type ReportSection } from '../section.ts';

export const EXAMPLES_PER_RULE = 5;
export const PREVIEW_CHARS = 280;

export interface RuleExample {
  id: string;
  source: string;
  language: string;
  preview: string;
  /** The rule's measurement (meta path), its value and the threshold the document was judged by, where the stage records them. */
  field?: string;
  value?: number;
  threshold?: number;
  /** The override whose options judged the document (`language: de`), when one did. */
  when?: string;
  detail?: string;
}

/** Per reject reason: the sample, lowest rank first. */
type ExampleTally = Record<string, Ranked<RuleExample>[]>;

export const examplesSection: ReportSection<'examples', Record<string, RuleExample[]>, ExampleTally> = {
  key: 'examples',
  title: 'Examples per rule',

  tally: {
    start({ settings, seed }) {
      const samples = new Map<string, RankedSample<RuleExample>>();
      return {
        add({ outcome, doc }) {
          const reason = doc.meta.reject_reason;
          if (outcome !== 'rejected' || typeof reason !== 'string') return;
          let sample = samples.get(reason);
          if (!sample) samples.set(reason, (sample = new RankedSample<RuleExample>(EXAMPLES_PER_RULE, seed)));
          sample.offer(doc.id, () => {
            const m = measurementOf(reason, doc.meta, settings);
            return {
              id: doc.id,
              source: label(doc.meta.source),
              language: label(doc.meta.language),
              preview: previewText(doc.text, PREVIEW_CHARS),
              ...(m.field !== undefined ? { field: m.field } : {}),
              ...(m.value !== undefined ? { value: m.value } : {}),
              ...(m.threshold !== undefined ? { threshold: m.threshold } : {}),
              ...(m.when !== undefined ? { when: m.when } : {}),
              ...(typeof doc.meta.reject_detail === 'string' ? { detail: doc.meta.reject_detail } : {}),
            };
          });
        },
        part: () => Object.fromEntries([...samples].map(([reason, s]) => [reason, s.ranked()])),
      };
    },
    merge(a, b) {
      const out: ExampleTally = { ...a };
      for (const [reason, items] of Object.entries(b)) out[reason] = lowestRanked([...(out[reason] ?? []), ...items], EXAMPLES_PER_RULE);
      return out;
    },
  },

  collect({ tallies }) {
    const t = (tallies.examples as ExampleTally | undefined) ?? {};
    return Object.fromEntries(Object.entries(t).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([reason, items]) => [reason, items.map((x) => x.item)]));
  },

  text(examples, { documents_basis }) {
    const none = documents_basis.startsWith('not run');
    const rules = Object.keys(examples);
    if (none || !rules.length) return { notes: [none ? documents_basis : 'No document was rejected.'], tables: [] };
    return {
      notes: [`A seeded sample of the documents each rule rejected, from ${documents_basis}; \`refinery inspect <run> --reason <stage:rule>\` shows more. The threshold is the one the document was judged by: an override's (its \`when\` in brackets) where one applied.`],
      tables: rules.map((rule) => ({
        caption: rule,
        headers: ['id', 'source', 'language', 'measured', 'threshold', 'text'],
        numeric: [false, false, false, true, true, false],
        rows: (examples[rule] ?? []).map((e) => [
          e.id,
          e.source,
          e.language,
          e.value !== undefined ? measureNumber(e.value) : (e.detail ?? '–'),
          e.threshold !== undefined ? `${measureNumber(e.threshold)}${e.when ? ` (${e.when})` : ''}` : '–',
          e.preview,
        ]),
      })),
    };
  },
  charts: () => [],
};
