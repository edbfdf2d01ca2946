/** Deduplication clusters: per dedup stage its clusters by size, what it removed, and example clusters. */
import { join } from 'node:path';
import { z } from 'zod';
import type { TopLevelSpec } from 'vega-lite';
import { base } from '../charts.ts';
import type { ClusterExample } from '../documents.ts';
import { readJsonIf } from '../run-sources.ts';
import { availableText, maybe, missing, n, table, type Missing, type ReportSection, type Table } from '../section.ts';

export interface DedupSection {
  available: true;
  stages: { stage: string; clusters: number; model?: string; removed_docs?: number; removed_bytes?: number; docs_in?: number; histogram: { size: string; clusters: number }[]; examples?: ClusterExample[] }[];
}

const dedupSchema = z.looseObject({
  settings: z.looseObject({ model: z.string().optional() }).optional(),
  clusters: z.number(),
  cluster_size_histogram: z.record(z.string(), z.number()).default({}),
  removed_docs: z.number().optional(),
  removed_bytes: z.number().optional(),
  docs_in: z.number().optional(),
});

function pick<T extends Record<string, unknown>, K extends keyof T>(obj: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {};
  for (const k of keys) if (obj[k] !== undefined) out[k] = obj[k];
  return out;
}

export const dedupSection: ReportSection<'dedup', DedupSection | Missing> = {
  key: 'dedup',
  title: 'Deduplication clusters',

  /** Every stats/<stage>.json with clusters (what the dedup stages write). */
  async collect({ runDir, files, views }) {
    const statsDir = join(runDir, 'stats');
    const stages: DedupSection['stages'] = [];
    for (const f of (await files.list(statsDir)).filter((name) => name.endsWith('.json'))) {
      const d = dedupSchema.safeParse(await readJsonIf(join(statsDir, f), files));
      if (!d.success) continue;
      const histogram = Object.entries(d.data.cluster_size_histogram)
        .map(([size, clusters]) => ({ size, clusters }))
        .sort((a, b) => parseInt(a.size, 10) - parseInt(b.size, 10));
      const stage = f.replace(/\.json$/, '');
      const examples = views?.cluster_examples[stage];
      stages.push({ stage, clusters: d.data.clusters, histogram, ...pick(d.data, ['removed_docs', 'removed_bytes', 'docs_in']), ...(d.data.settings?.model ? { model: d.data.settings.model } : {}), ...(examples?.length ? { examples } : {}) });
    }
    return stages.length ? { available: true, stages } : missing('not run: no stats/<stage>.json with clusters');
  },

  text: (data) =>
    availableText(data, (d) => {
      const notes: string[] = [];
      const tables: Table[] = [table(['stage', 'clusters', 'documents removed', 'bytes removed'], d.stages.map((x) => [x.stage, n(x.clusters), maybe(x.removed_docs, n), maybe(x.removed_bytes, n)]))];
      for (const x of d.stages) if (x.model) notes.push(`${x.stage} embeds with the ${x.model}.`);
      for (const x of d.stages) if (x.histogram.length) tables.push(table([`${x.stage}: cluster size`, 'clusters'], x.histogram.map((h) => [h.size, n(h.clusters)])));
      for (const x of d.stages) {
        if (!x.examples?.length) continue;
        tables.push({
          caption: `${x.stage}: example clusters (seeded sample; \`refinery inspect <run> --cluster <id>\` shows one whole)`,
          headers: ['cluster', 'document', 'id', 'text'],
          numeric: [false, false, false, false],
          rows: x.examples.flatMap((c) => [...(c.kept ? [[c.cluster, 'kept', c.kept.id, c.kept.preview]] : []), ...c.duplicates.map((dup) => [c.cluster, 'duplicate', dup.id, dup.preview])]),
        });
      }
      return { notes, tables };
    }),

  charts(data) {
    if (!data.available) return [];
    return data.stages
      .filter((s) => s.histogram.length)
      .map(
        (s) =>
          ({
            ...base(`${s.stage}: duplicate clusters by size`, s.histogram),
            height: { step: 22 },
            mark: { type: 'bar', tooltip: true },
            encoding: {
              y: { field: 'size', type: 'ordinal', sort: s.histogram.map((h) => h.size), title: 'cluster size' },
              x: { field: 'clusters', type: 'quantitative', title: 'clusters', axis: { tickMinStep: 1, format: 'd' } },
            },
          }) as TopLevelSpec,
      );
  },
};
