/**
 * Personal data: what the `pii` mapper found and replaced (items per type, over the documents it
 * saw) and which sites `pii-sites` dropped for their PII density, with its threshold. Shown when
 * the run has either stage.
 */
import { join } from 'node:path';
import { z } from 'zod';
import type { TopLevelSpec } from 'vega-lite';
import { base, TOP } from '../chart-specs.ts';
import { readJsonIf } from '../run-files.ts';
import { availableText, missing, n, table, type Missing, type ReportSection, type Table } from '../section.ts';

export interface PiiSection {
  available: true;
  /** From `meta.pii` (the `pii` stage): documents that carry counts, and items per type. */
  found?: { docs: number; docs_with_pii: number; items: { type: string; count: number }[] };
  /** From stats/pii-sites.json (the `pii-sites` stage). */
  sites?: {
    sites: number;
    sites_with_pii: number;
    sites_dropped: number;
    documents_dropped: number;
    /** PII items per 1,000 characters above which a site is dropped, and the fewest items that can drop it. */
    max_density: number;
    min_site_pii: number;
    /** The dropped sites, densest first. */
    dropped: { host: string; docs: number; pii: number; density: number }[];
  };
}

/** Documents that carry `meta.pii`, those with at least one item, and the items per type. */
interface PiiTally {
  docs: number;
  with_pii: number;
  types: Record<string, number>;
}

const sitesSchema = z.looseObject({
  sites: z.number(),
  sites_with_pii: z.number(),
  sites_dropped: z.number(),
  documents_dropped: z.number(),
  max_density: z.number(),
  min_site_pii: z.number(),
  dropped: z.record(z.string(), z.looseObject({ docs: z.number(), pii: z.number(), density: z.number() })).default({}),
});

export const piiSection: ReportSection<'pii', PiiSection | Missing, PiiTally> = {
  key: 'pii',
  title: 'Personal data',

  tally: {
    start() {
      const t: PiiTally = { docs: 0, with_pii: 0, types: {} };
      return {
        add({ outcome, doc }) {
          const counts = doc.meta.pii;
          if (outcome === 'errored' || counts === null || typeof counts !== 'object' || Array.isArray(counts)) return;
          t.docs++;
          let any = false;
          for (const [type, c] of Object.entries(counts as Record<string, unknown>)) {
            if (type === 'total' || typeof c !== 'number' || c <= 0) continue;
            t.types[type] = (t.types[type] ?? 0) + c;
            any = true;
          }
          if (any) t.with_pii++;
        },
        part: () => t,
      };
    },
    merge(a, b) {
      const types = { ...a.types };
      for (const [type, c] of Object.entries(b.types)) types[type] = (types[type] ?? 0) + c;
      return { docs: a.docs + b.docs, with_pii: a.with_pii + b.with_pii, types };
    },
  },

  async collect({ runDir, files, tallies }) {
    const t = tallies.pii as PiiTally | undefined;
    const parsed = sitesSchema.safeParse(await readJsonIf(join(runDir, 'stats', 'pii-sites.json'), files));
    if (!(t && t.docs > 0) && !parsed.success) return missing('not run: no pii or pii-sites stage in the run');
    return {
      available: true,
      ...(t && t.docs > 0
        ? {
            found: {
              docs: t.docs,
              docs_with_pii: t.with_pii,
              items: Object.entries(t.types)
                .map(([type, count]) => ({ type, count }))
                .sort((a, b) => b.count - a.count || (a.type < b.type ? -1 : 1)),
            },
          }
        : {}),
      ...(parsed.success
        ? {
            sites: {
              sites: parsed.data.sites,
              sites_with_pii: parsed.data.sites_with_pii,
              sites_dropped: parsed.data.sites_dropped,
              documents_dropped: parsed.data.documents_dropped,
              max_density: parsed.data.max_density,
              min_site_pii: parsed.data.min_site_pii,
              dropped: Object.entries(parsed.data.dropped)
                .map(([host, s]) => ({ host, docs: s.docs, pii: s.pii, density: s.density }))
                .sort((a, b) => b.density - a.density || (a.host < b.host ? -1 : 1)),
            },
          }
        : {}),
    };
  },

  text: (data) =>
    availableText(data, (p) => {
      const notes: string[] = [];
      const tables: Table[] = [];
      if (p.found) {
        notes.push(`pii: ${n(p.found.docs_with_pii)} of the ${n(p.found.docs)} documents it saw held personal data; each item was replaced by its placeholder (or only counted, with replace: false). Counted over every document that carries meta.pii, kept or rejected later.`);
        if (p.found.items.length) tables.push(table(['type', 'items'], p.found.items.map((x) => [x.type, n(x.count)])));
      }
      if (p.sites) {
        const s = p.sites;
        notes.push(`pii-sites: ${n(s.sites_with_pii)} of ${n(s.sites)} sites (URL hosts) hold personal data; ${n(s.sites_dropped)} had more than ${s.max_density} PII items per 1,000 characters over all their documents (and at least ${n(s.min_site_pii)} items), so their ${n(s.documents_dropped)} documents were dropped.`);
        if (s.dropped.length) tables.push(table(['site', 'documents', 'PII items', 'density (per 1,000 chars)'], s.dropped.map((x) => [x.host, n(x.docs), n(x.pii), String(x.density)])));
      }
      return { notes, tables };
    }),

  charts(data) {
    if (!data.available || !data.sites?.dropped.length) return [];
    const { dropped, max_density } = data.sites;
    const rows = dropped.slice(0, TOP).map((x) => ({ site: x.host, density: x.density }));
    return [
      {
        ...base(`PII density of the dropped sites${dropped.length > TOP ? ` (top ${TOP})` : ''}, with the threshold`, rows),
        layer: [
          { mark: { type: 'bar', tooltip: true, color: '#e45756' }, encoding: { y: { field: 'site', type: 'nominal', sort: '-x', title: null }, x: { field: 'density', type: 'quantitative', title: 'PII items per 1,000 characters' } } },
          { data: { values: [{ threshold: max_density }] }, mark: { type: 'rule', color: '#111', strokeDash: [4, 3], strokeWidth: 1.5 }, encoding: { x: { field: 'threshold', type: 'quantitative' } } },
        ],
      } as TopLevelSpec,
    ];
  },
};
