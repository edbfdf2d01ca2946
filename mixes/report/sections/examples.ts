/** Examples per rule: a seeded sample of the documents each reject rule dropped, with what it measured. */
import type { RuleExample } from '../documents.ts';
import { measureNumber, type ReportSection } from '../section.ts';

export const examplesSection: ReportSection<'examples', Record<string, RuleExample[]>> = {
  key: 'examples',
  title: 'Examples per rule',
  collect: ({ views }) => views?.examples ?? {},
  text(examples, { documents_basis }) {
    const none = documents_basis.startsWith('not run');
    const rules = Object.keys(examples);
    if (none || !rules.length) return { notes: [none ? documents_basis : 'No document was rejected.'], tables: [] };
    return {
      notes: [`A seeded sample of the documents each rule rejected, from ${documents_basis}; \`refinery inspect <run> --reason <stage:rule>\` shows more.`],
      tables: rules.map((rule) => ({
        caption: rule,
        headers: ['id', 'source', 'language', 'measured', 'threshold', 'text'],
        numeric: [false, false, false, true, true, false],
        rows: (examples[rule] ?? []).map((e) => [e.id, e.source, e.language, e.value !== undefined ? measureNumber(e.value) : (e.detail ?? '–'), e.threshold !== undefined ? measureNumber(e.threshold) : '–', e.preview]),
      })),
    };
  },
  charts: () => [],
};
