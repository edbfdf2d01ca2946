/**
 * Sites likely to hold personal data (Llama 3 §3.1.1 removed "websites that are likely to contain
 * ... high volumes of PII"), a global stage:
 *   map     per shard: per URL host (meta.url, as url-blocklist reads it): documents, characters
 *           and PII items, from `meta.pii.total` when the `pii` stage ran before, else counted here
 *           with pii's defaults (nothing is replaced);
 *   reduce  once: each site's density, PII items per 1,000 characters over all its documents;
 *   apply   per shard: `meta.pii_sites = {host, density, threshold}`, drop `pii_density` when the
 *           site has at least `min_site_pii` PII items and its density exceeds `max_density`.
 * A site is judged by all its documents, so one contact page does not condemn a site, and a
 * directory of people with a number on every line does. Documents without a URL are kept.
 */
import { z } from 'zod';
import { defineStage, drop, KEEP, type DocStage, type GlobalStage, type ShardRef, type StageContext, type Verdict } from '../pipeline/stage.ts';
import type { Doc } from '../pipeline/doc.ts';
import { parseUrl } from './url-blocklist.ts';
import { round4 } from './meta-number.ts';
import { piiOptions, piiSpansOf } from './pii.ts';
import { siteFiles, type SiteTally } from './pii/site-files.ts';

/** Defaults: Llama 3 publishes no threshold; these are *ours* (docs/filters.md gives what they drop on devdata). */
export const piiSitesOptions = z
  .object({
    max_density: z.number().positive().default(2).describe("Drop a site's documents when its PII items per 1,000 characters exceed this."),
    min_site_pii: z.number().int().positive().default(3).describe('Sites with fewer PII items in the corpus are never dropped (one address on a short contact page is not a volume of personal data).'),
    url_field: z.string().default('url').describe('meta field holding the document URL.'),
  })
  .strict();
export type PiiSitesOptions = z.infer<typeof piiSitesOptions>;

const countingOptions = piiOptions.parse({ replace: false });

/** PII items of a document: what `pii` recorded, or counted now. */
function piiCountOf(doc: Doc): number {
  const recorded = (doc.meta.pii as { total?: unknown } | undefined)?.total;
  return typeof recorded === 'number' ? recorded : piiSpansOf(doc, countingOptions).length;
}

function hostOf(doc: Doc, field: string): string | undefined {
  const url = doc.meta[field];
  return typeof url === 'string' ? parseUrl(url)?.host : undefined;
}

export function createPiiSites(o: PiiSitesOptions, ctx: StageContext): GlobalStage {
  const files = siteFiles(ctx.workDir, ctx.outputDir, ctx.files);
  return {
    kind: 'global',
    name: 'pii-sites',
    partitions: 1,

    async map(shard: ShardRef, docs: AsyncIterable<Doc>): Promise<void> {
      const tally: Record<string, SiteTally> = {};
      for await (const doc of docs) {
        const host = hostOf(doc, o.url_field);
        if (host === undefined) continue;
        const t = (tally[host] ??= { docs: 0, chars: 0, pii: 0 });
        t.docs++;
        t.chars += doc.text.length;
        t.pii += piiCountOf(doc);
      }
      await files.writeShardTally(shard.index, tally);
    },

    async reduce(_partition: number, shardCount: number): Promise<void> {
      const total = new Map<string, SiteTally>();
      for (let i = 0; i < shardCount; i++) {
        for (const [host, t] of Object.entries(await files.readShardTally(i))) {
          const s = total.get(host) ?? { docs: 0, chars: 0, pii: 0 };
          total.set(host, { docs: s.docs + t.docs, chars: s.chars + t.chars, pii: s.pii + t.pii });
        }
      }
      const sites: Record<string, SiteTally & { density: number; dropped: boolean }> = {};
      let droppedDocs = 0;
      for (const host of [...total.keys()].sort()) {
        const t = total.get(host)!;
        if (t.pii === 0) continue;
        const density = round4((1000 * t.pii) / Math.max(1, t.chars));
        const dropped = t.pii >= o.min_site_pii && density > o.max_density;
        if (dropped) droppedDocs += t.docs;
        sites[host] = { ...t, density, dropped };
      }
      await files.writeSites(sites);
      const dropped = Object.entries(sites).filter(([, s]) => s.dropped);
      await files.writeStats({
        sites: total.size,
        sites_with_pii: Object.keys(sites).length,
        sites_dropped: dropped.length,
        documents_dropped: droppedDocs,
        max_density: o.max_density,
        min_site_pii: o.min_site_pii,
        dropped: Object.fromEntries(dropped.map(([host, s]) => [host, { docs: s.docs, pii: s.pii, density: s.density }])),
      });
    },

    async applier(_shard: ShardRef): Promise<DocStage> {
      const sites = await files.readSites();
      const decide = (doc: Doc): Verdict => {
        const host = hostOf(doc, o.url_field);
        if (host === undefined) {
          doc.meta.pii_sites = { skipped: 'no url' };
          return KEEP;
        }
        const site = sites[host];
        doc.meta.pii_sites = { host, density: site?.density ?? 0, threshold: o.max_density };
        return site?.dropped ? drop('pii_density', `${host}: ${site.density} PII items per 1,000 characters`) : KEEP;
      };
      return { kind: 'filter', name: 'pii-sites', process: (docs) => docs.map(decide) };
    },
  };
}

export const piiSitesStage = defineStage<PiiSitesOptions>({
  name: 'pii-sites',
  kind: 'global',
  description: "Llama 3's PII site filter: drop the documents of URL hosts whose PII items per 1,000 characters, over the corpus, exceed max_density",
  options: piiSitesOptions,
  create: (o, ctx) => createPiiSites(o, ctx),
});

/** This module's stages, for the registry. */
export const stages = [piiSitesStage];
