/**
 * URL dedup (Llama 3 §3.1.1: "we keep the most recent version for pages corresponding to each
 * URL"): documents with the same normalised URL are one cluster; the one with the latest date is
 * kept (ties and undated documents: the earliest in input order). Documents without a URL pass.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Doc } from '../pipeline/doc.ts';
import { defineStage } from '../pipeline/stage.ts';
import { docDedupStage } from './doc-dedup-stage.ts';
import { normalizeUrl } from './url-normalize.ts';

export const urlDedupOptions = z.object({
  url_fields: z.array(z.string()).default(['url', 'warc_target_uri', 'WARC-Target-URI']).describe('`meta` fields holding the URL, first present wins (WARC readers write `url`).'),
  date_fields: z.array(z.string()).default(['date', 'crawl_date', 'timestamp', 'warc_date', 'WARC-Date', 'added']).describe('`meta` fields holding the crawl or publication date (ISO 8601 or epoch seconds/ms).'),
  keep_query: z.boolean().default(true).describe('Keep the query string (sorted, tracking parameters removed) as part of the URL.'),
  partitions: z.number().int().min(1).max(65536).default(16).describe('Reduce tasks (partitions of the URL keys).'),
}).strict();
export type UrlDedupOptions = z.infer<typeof urlDedupOptions>;

function firstString(meta: Record<string, unknown>, fields: string[]): string | undefined {
  for (const f of fields) {
    const v = meta[f];
    if (typeof v === 'string' && v.length > 0) return v;
  }
  return undefined;
}

/** Milliseconds since 1970 of the document's date, or undefined. */
export function docTime(meta: Record<string, unknown>, fields: string[]): number | undefined {
  for (const f of fields) {
    const v = meta[f];
    if (typeof v === 'number' && Number.isFinite(v)) return v < 1e11 ? v * 1000 : v;
    if (typeof v === 'string' && v.length > 0) {
      const t = /^\d+$/.test(v) ? Number(v) * (v.length <= 10 ? 1000 : 1) : Date.parse(v);
      if (Number.isFinite(t)) return t;
    }
  }
  return undefined;
}

const LATEST = 2 ** 52;

/** Rank words: newer dates rank lower (preferred); undated rank last. */
function rankOf(doc: Doc, fields: string[]): [number, number] {
  const t = docTime(doc.meta, fields);
  const r = t === undefined ? LATEST : Math.max(0, Math.min(LATEST, LATEST / 2 - Math.floor(t)));
  return [Math.floor(r / 0x1_0000_0000), r % 0x1_0000_0000];
}

export const urlDedupStage = defineStage<UrlDedupOptions>({
  name: 'url-dedup',
  kind: 'global',
  description: 'Keeps one document per normalised URL: the most recent by meta.date (Llama 3)',
  options: urlDedupOptions,
  create: (o, ctx) =>
    docDedupStage({
      name: 'url-dedup',
      rule: 'url',
      partitions: o.partitions,
      workDir: ctx.workDir,
      files: ctx.files,
      outputDir: ctx.outputDir,
      settings: { url_fields: o.url_fields, date_fields: o.date_fields, keep_query: o.keep_query },
      keyer: () => ({
        add(doc, _pos, emit) {
          const raw = firstString(doc.meta, o.url_fields);
          const url = raw === undefined ? null : normalizeUrl(raw, { keepQuery: o.keep_query });
          if (url === null) return;
          const d = createHash('sha1').update(url).digest();
          const [rh, rl] = rankOf(doc, o.date_fields);
          emit(d.readUInt32BE(0), d.readUInt32BE(4), rh, rl);
        },
        finish: async () => undefined,
      }),
    }),
});

/** This module's stages, for the registry. */
export const stages = [urlDedupStage];
