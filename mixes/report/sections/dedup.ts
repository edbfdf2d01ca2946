/** Deduplication clusters: per dedup stage its clusters by size, what it removed, and example clusters. */
import { join } from 'node:path';
import { z } from 'zod';
import type { TopLevelSpec } from 'vega-lite';
import { base } from '../chart-specs.ts';
import { previewText } from '../../inspect.ts';
import { readJsonIf } from '../run-files.ts';
import { rankOf } from '../settled-figures.ts';
import { availableText, maybe, missing, n, table, type Missing, type ReportSection, type Table } from '../section.ts';
import { PREVIEW_CHARS } from './examples.ts';

export const CLUSTER_EXAMPLES_PER_STAGE = 3;
/** Clusters sampled per stage: some have no duplicate left in the run (a later stage rejected them first). */
const CLUSTER_CANDIDATES = 4 * CLUSTER_EXAMPLES_PER_STAGE;
/** Duplicates shown of an example cluster (a seeded sample of them); `refinery inspect --cluster` shows all. */
export const DUPLICATES_PER_EXAMPLE = 10;

export interface ClusterExample {
  cluster: string;
  kept?: { id: string; preview: string };
  duplicates: { id: string; preview: string }[];
  /** Duplicates of the cluster in the run, when more than are shown. */
  duplicates_total?: number;
}

interface SampledCluster {
  rank: number;
  kept?: { id: string; preview: string };
  /** With each one's rank, lowest first, at most DUPLICATES_PER_EXAMPLE. */
  duplicates: { rank: number; id: string; preview: string }[];
  duplicates_total: number;
}

/** Per dedup stage (the part of the cluster id before its last `/`): the sampled clusters by id. */
type ClusterTally = Record<string, Record<string, SampledCluster>>;

/** Keeps the CLUSTER_CANDIDATES clusters of lowest rank (ties by id). */
function trimClusters(clusters: Record<string, SampledCluster>): Record<string, SampledCluster> {
  const kept = Object.entries(clusters)
    .sort(([a, x], [b, y]) => x.rank - y.rank || (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, CLUSTER_CANDIDATES);
  return Object.fromEntries(kept);
}

function mergeCluster(a: SampledCluster, b: SampledCluster): SampledCluster {
  const byId = new Map([...a.duplicates, ...b.duplicates].map((d) => [d.id, d]));
  const duplicates = [...byId.values()].sort((x, y) => x.rank - y.rank || (x.id < y.id ? -1 : 1)).slice(0, DUPLICATES_PER_EXAMPLE);
  const kept = a.kept && b.kept ? (a.kept.id <= b.kept.id ? a.kept : b.kept) : (a.kept ?? b.kept);
  return { rank: a.rank, ...(kept ? { kept } : {}), duplicates, duplicates_total: a.duplicates_total + b.duplicates_total };
}

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

export const dedupSection: ReportSection<'dedup', DedupSection | Missing, ClusterTally> = {
  key: 'dedup',
  title: 'Deduplication clusters',

  /** A seeded sample of clusters per stage, ranked by cluster id, with their members as the tasks settle them. */
  tally: {
    start({ seed }) {
      const stages: ClusterTally = {};
      return {
        add({ outcome, doc }) {
          const cluster = doc.meta.dedup_cluster;
          if (outcome === 'errored' || typeof cluster !== 'string') return;
          const clusters = (stages[cluster.slice(0, cluster.lastIndexOf('/'))] ??= {});
          let c = clusters[cluster];
          if (!c) {
            const rank = rankOf(seed, cluster);
            const ids = Object.keys(clusters);
            if (ids.length >= CLUSTER_CANDIDATES) {
              // The highest-ranked cluster leaves for a lower one; one that left (or never entered) never comes back.
              const worst = ids.reduce((w, id) => ((clusters[id]?.rank ?? -1) > (clusters[w]?.rank ?? -1) ? id : w));
              if (rank >= (clusters[worst]?.rank ?? -1)) return;
              delete clusters[worst];
            }
            c = clusters[cluster] = { rank, duplicates: [], duplicates_total: 0 };
          }
          const item = { id: doc.id, preview: previewText(doc.text, PREVIEW_CHARS) };
          if (typeof doc.meta.duplicate_of !== 'string') {
            if (!c.kept || item.id < c.kept.id) c.kept = item;
            return;
          }
          c.duplicates_total++;
          c.duplicates = [...c.duplicates, { rank: rankOf(seed, doc.id), ...item }].sort((x, y) => x.rank - y.rank || (x.id < y.id ? -1 : 1)).slice(0, DUPLICATES_PER_EXAMPLE);
        },
        part: () => stages,
      };
    },
    merge(a, b) {
      const out: ClusterTally = { ...a };
      for (const [stage, clusters] of Object.entries(b)) {
        const merged = { ...(out[stage] ?? {}) };
        for (const [id, c] of Object.entries(clusters)) {
          const have = merged[id];
          merged[id] = have ? mergeCluster(have, c) : c;
        }
        out[stage] = trimClusters(merged);
      }
      return out;
    },
  },

  /** Every stats/<stage>.json with clusters (what the dedup stages write), with example clusters. */
  async collect({ runDir, files, tallies }) {
    const sampled = (tallies.dedup as ClusterTally | undefined) ?? {};
    const statsDir = join(runDir, 'stats');
    const stages: DedupSection['stages'] = [];
    for (const f of (await files.list(statsDir)).filter((name) => name.endsWith('.json'))) {
      const d = dedupSchema.safeParse(await readJsonIf(join(statsDir, f), files));
      if (!d.success) continue;
      const histogram = Object.entries(d.data.cluster_size_histogram)
        .map(([size, clusters]) => ({ size, clusters }))
        .sort((a, b) => parseInt(a.size, 10) - parseInt(b.size, 10));
      const stage = f.replace(/\.json$/, '');
      const examples = Object.entries(sampled[stage] ?? {})
        .filter(([, c]) => c.duplicates.length > 0)
        .sort(([a, x], [b, y]) => x.rank - y.rank || (a < b ? -1 : a > b ? 1 : 0))
        .slice(0, CLUSTER_EXAMPLES_PER_STAGE)
        .map(([cluster, c]): ClusterExample => ({
          cluster,
          ...(c.kept ? { kept: c.kept } : {}),
          duplicates: c.duplicates.map((d) => ({ id: d.id, preview: d.preview })),
          ...(c.duplicates_total > c.duplicates.length ? { duplicates_total: c.duplicates_total } : {}),
        }));
      stages.push({ stage, clusters: d.data.clusters, histogram, ...pick(d.data, ['removed_docs', 'removed_bytes', 'docs_in']), ...(d.data.settings?.model ? { model: d.data.settings.model } : {}), ...(examples.length ? { examples } : {}) });
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
          rows: x.examples.flatMap((c) => [
            ...(c.kept ? [[c.cluster, 'kept', c.kept.id, c.kept.preview]] : []),
            ...c.duplicates.map((dup) => [c.cluster, 'duplicate', dup.id, dup.preview]),
            ...(c.duplicates_total ? [[c.cluster, `${n(c.duplicates_total - c.duplicates.length)} more duplicates`, '', '']] : []),
          ]),
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
