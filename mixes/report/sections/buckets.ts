/** Tokens per bucket (source, category, language, quality band) of the tokenized manifest. */
import { formatTokens } from '../../figures.ts';
import { hbar, TOP } from '../chart-specs.ts';
import type { ManifestBucket } from '../run-schemas.ts';
import { availableText, missing, n, table, type Missing, type ReportSection } from '../section.ts';

export interface BucketSection {
  available: true;
  basis: string;
  rows: ManifestBucket[];
}

export const bucketsSection: ReportSection<'buckets', BucketSection | Missing> = {
  key: 'buckets',
  title: 'Tokens per bucket',
  collect: ({ buckets, bucketsBasis }) => (buckets ? { available: true, basis: bucketsBasis, rows: buckets } : missing('not run: no tokens/manifest.json')),
  text: (data) =>
    availableText(data, (b) => ({
      notes: [`From ${b.basis}.`],
      tables: [
        table(
          ['source', 'category', 'language', 'quality band', 'documents', 'tokens'],
          [...b.rows].sort((x, y) => y.tokens - x.tokens).map((x) => [x.source, x.category, x.language, x.quality_band, n(x.docs), formatTokens(x.tokens)]),
          [false, false, false, false, true, true],
        ),
      ],
    })),
  charts(data) {
    if (!data.available || !data.rows.length) return [];
    const rows = [...data.rows]
      .sort((a, b) => b.tokens - a.tokens)
      .slice(0, TOP)
      .map((b) => ({ bucket: `${b.source} / ${b.language} / ${b.quality_band}`, category: b.category, tokens: b.tokens }));
    return [hbar(`Tokens per bucket${data.rows.length > TOP ? ` (top ${TOP})` : ''}`, rows, 'bucket', 'tokens', 'tokens', 'category')];
  },
};
