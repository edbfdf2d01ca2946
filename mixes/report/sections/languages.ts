/** Languages: documents and tokens per human language and per programming language. */
import { formatTokens, pct } from '../../figures.ts';
import { BYTES_PER_TOKEN_ESTIMATE } from '../../census.ts';
import { hbar, TOP } from '../chart-specs.ts';
import { label, tokensOf } from '../settled-figures.ts';
import { availableText, countersByKey, missing, n, table, type Missing, type ReportSection, type Table } from '../section.ts';

export interface CountSection {
  available: true;
  /** What the counts are of, e.g. "tokens in tokens/manifest.json". */
  basis: string;
  /** `programming`: a language of source code (category code), shown apart from human languages. */
  rows: { name: string; docs: number; tokens: number; kind: 'natural' | 'programming' }[];
}

/** A language is a programming language when most of its documents are of category code. */
function sortedRows(m: Map<string, { docs: number; tokens: number; code: number }>): CountSection['rows'] {
  return [...m.entries()].map(([name, v]) => ({ name, docs: v.docs, tokens: v.tokens, kind: v.code * 2 > v.docs ? ('programming' as const) : ('natural' as const) })).sort((a, b) => b.tokens - a.tokens || (a.name < b.name ? -1 : 1));
}

const KINDS = ['natural', 'programming'] as const;

/** Per language of the kept documents: documents, tokens, and documents of category code. */
type LanguageTally = Record<string, { docs: number; tokens: number; code: number }>;

export const languagesSection: ReportSection<'languages', CountSection | Missing, LanguageTally> = {
  key: 'languages',
  title: 'Languages',

  tally: countersByKey(
    () => ({ docs: 0, tokens: 0, code: 0 }),
    ({ outcome, doc }, of) => {
      if (outcome !== 'kept') return;
      const l = of(label(doc.meta.language));
      l.docs++;
      l.tokens += tokensOf(doc);
      if (doc.meta.category === 'code') l.code++;
    },
  ),

  /** From the tokenized manifest when there is one, else from the kept documents. */
  collect({ buckets, bucketsBasis, tallies, documents }) {
    if (buckets) {
      const m = new Map<string, { docs: number; tokens: number; code: number }>();
      for (const b of buckets) {
        const r = m.get(b.language) ?? { docs: 0, tokens: 0, code: 0 };
        r.docs += b.docs;
        r.tokens += b.tokens;
        if (b.category === 'code') r.code += b.docs;
        m.set(b.language, r);
      }
      return { available: true, basis: bucketsBasis, rows: sortedRows(m) };
    }
    const kept = tallies.languages as LanguageTally | undefined;
    if (kept && documents && documents.kept > 0) return { available: true, basis: `${documents.basisOf(['kept'])} (meta.num_tokens, else UTF-8 bytes / ${BYTES_PER_TOKEN_ESTIMATE})`, rows: sortedRows(new Map(Object.entries(kept))) };
    return missing('not run: no tokens/manifest.json and no documents in kept/');
  },

  text: (data) =>
    availableText(data, (l) => {
      const total = l.rows.reduce((a, x) => a + x.tokens, 0);
      const tables: Table[] = [];
      for (const kind of KINDS) {
        const rows = l.rows.filter((x) => x.kind === kind);
        if (rows.length) tables.push(table([kind === 'natural' ? 'language' : 'programming language', 'documents', 'tokens', 'share'], rows.map((x) => [x.name, n(x.docs), formatTokens(x.tokens), total ? pct(x.tokens / total) : '–'])));
      }
      return { notes: [`From ${l.basis}. Human languages and programming languages (documents of category code) are listed apart; shares are of all tokens.`], tables };
    }),

  charts(data) {
    if (!data.available) return [];
    return KINDS.flatMap((kind) => {
      const rows = data.rows.filter((x) => x.kind === kind);
      if (!rows.length) return [];
      const what = kind === 'natural' ? 'language' : 'programming language';
      return [hbar(`Tokens per ${what}${rows.length > TOP ? ` (top ${TOP})` : ''}`, rows.slice(0, TOP).map((x) => ({ name: x.name, tokens: x.tokens })), 'name', 'tokens', 'tokens')];
    });
  },
};
