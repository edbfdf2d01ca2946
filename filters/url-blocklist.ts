/**
 * NSFW URL filter (RefinedWeb, Penedo et al. 2023, §G.1; DT `filters/url_filter.py`): a domain
 * or any parent domain in a block list (so subdomains are blocked too), an exact URL in a list,
 * a hard-banned word as a URL token, or a soft-word score at or above a threshold. The project
 * ships small lists in `filters/nsfw/` (provenance in their headers); the full UT1 "adult" lists
 * are accepted as files.
 */
import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { z } from 'zod';
import { defineStage, drop, KEEP, perDocStage, type Verdict } from '../pipeline/stage.ts';
import type { Doc } from '../pipeline/doc.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { packagePath } from '../pipeline/package-root.ts';

/**
 * `builtin:<name>` names a list shipped in filters/nsfw/, so that configs (and their hashes) do not
 * carry this install's absolute path to queue workers installed elsewhere.
 */
const BUILTIN = 'builtin:';
function listPath(f: string, baseDir: string): string {
  if (f.startsWith(BUILTIN)) return packagePath('filters', 'nsfw', f.slice(BUILTIN.length));
  return isAbsolute(f) ? f : resolve(baseDir, f);
}

export const urlBlocklistOptions = z
  .object({
    url_field: z.string().default('url').describe('meta field that holds the URL.'),
    domain_files: z.array(z.string()).default(['builtin:adult-domains.txt']).describe('Domain lists (UT1 `domains` format); the shipped starter list is used unless replaced.'),
    url_files: z.array(z.string()).default([]).describe('Exact-URL lists (UT1 `urls` format: host/path, no scheme).'),
    word_files: z.array(z.string()).default(['builtin:url-words.txt']).describe('"<word> <weight|hard>" lists.'),
    soft_word_threshold: z.number().positive().default(2).describe('Block when the soft-word score reaches this. 2: RefinedWeb\'s "two or more soft-banned words".'),
  })
  .strict();
export type UrlBlocklistOptions = z.infer<typeof urlBlocklistOptions>;

export interface UrlBlocklist {
  domains: Set<string>;
  urls: Set<string>;
  hardWords: Set<string>;
  softWords: Map<string, number>;
}

export function parseDomainList(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim().toLowerCase();
    if (line !== '') out.push(line.replace(/^www\./, '').replace(/\/+$/, ''));
  }
  return out;
}

export function parseWordList(text: string, file: string): { hard: string[]; soft: [string, number][] } {
  const hard: string[] = [];
  const soft: [string, number][] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    const [word, weight = 'hard'] = line.toLowerCase().split(/\s+/);
    if (weight === 'hard') hard.push(word!);
    else if (Number.isFinite(Number(weight))) soft.push([word!, Number(weight)]);
    else throw new ConfigError(file, `line ${i + 1}`, `weight must be a number or "hard", got "${weight}"`);
  });
  return { hard, soft };
}

export async function loadUrlBlocklist(o: UrlBlocklistOptions, baseDir: string): Promise<UrlBlocklist> {
  const read = async (f: string) => {
    const path = listPath(f, baseDir);
    try {
      return await readFile(path, 'utf8');
    } catch (e) {
      throw new ConfigError(path, 'url-blocklist options', `cannot read list file: ${(e as Error).message}`);
    }
  };
  const list: UrlBlocklist = { domains: new Set(), urls: new Set(), hardWords: new Set(), softWords: new Map() };
  for (const f of o.domain_files) for (const d of parseDomainList(await read(f))) list.domains.add(d);
  for (const f of o.url_files) for (const u of parseDomainList(await read(f))) list.urls.add(u);
  for (const f of o.word_files) {
    const { hard, soft } = parseWordList(await read(f), f);
    for (const w of hard) list.hardWords.add(w);
    for (const [w, weight] of soft) list.softWords.set(w, weight);
  }
  return list;
}

/** Host and path of a URL, lower case, without scheme and `www.`; undefined when it is not a URL. */
export function parseUrl(url: string): { host: string; path: string } | undefined {
  const trimmed = url.trim();
  if (trimmed === '') return undefined;
  try {
    const u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(trimmed) ? trimmed : `http://${trimmed}`);
    const host = u.hostname.toLowerCase().replace(/^www\./, '').replace(/\.$/, '');
    if (host === '') return undefined;
    return { host, path: decodeSafely(u.pathname + u.search).toLowerCase() };
  } catch {
    return undefined;
  }
}

function decodeSafely(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

export function urlBlockVerdict(
  url: string,
  list: UrlBlocklist,
  softWordThreshold: number,
): { verdict: Verdict; soft_score: number } {
  const parsed = parseUrl(url);
  if (parsed === undefined) return { verdict: KEEP, soft_score: 0 };
  const labels = parsed.host.split('.');
  for (let i = 0; i < labels.length - 1; i++) {
    const suffix = labels.slice(i).join('.');
    if (list.domains.has(suffix)) return { verdict: drop('blocked_domain', suffix), soft_score: 0 };
  }
  const hostPath = (parsed.host + parsed.path).replace(/\/+$/, '');
  if (list.urls.has(hostPath)) return { verdict: drop('blocked_url'), soft_score: 0 };
  let soft = 0;
  for (const token of (parsed.host + ' ' + parsed.path).split(/[^\p{L}\p{N}]+/u)) {
    if (token === '') continue;
    if (list.hardWords.has(token)) return { verdict: drop('hard_banned_word', token), soft_score: soft };
    soft += list.softWords.get(token) ?? 0;
  }
  return { verdict: soft >= softWordThreshold ? drop('soft_banned_words', String(soft)) : KEEP, soft_score: soft };
}

export function urlBlocklist(doc: Doc, list: UrlBlocklist, o: UrlBlocklistOptions): Verdict {
  const url = doc.meta[o.url_field];
  if (typeof url !== 'string' || url.trim() === '') {
    doc.meta.url_blocklist = { skipped: 'no url' };
    return KEEP;
  }
  const { verdict, soft_score } = urlBlockVerdict(url, list, o.soft_word_threshold);
  doc.meta.url_blocklist = { blocked: !verdict.keep, soft_score };
  return verdict;
}

export const urlBlocklistStage = defineStage<UrlBlocklistOptions>({
  name: 'url-blocklist',
  kind: 'filter',
  description: 'NSFW URL filter: block-listed domains and subdomains (UT1 files accepted), listed URLs, banned and soft-scored URL words',
  options: urlBlocklistOptions,
  async create(o, ctx) {
    const list = await loadUrlBlocklist(o, ctx.baseDir);
    return perDocStage('filter', 'url-blocklist', (doc) => urlBlocklist(doc, list, o));
  },
});

/** This module's stages, for the registry. */
export const stages = [urlBlocklistStage];
