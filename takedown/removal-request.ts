/**
 * What `refinery remove` is asked to take out of a run: documents named by id, by URL, or by the
 * host of their URL (a domain takes its subdomains too: `example.com` names `www.example.com`).
 * Each list is a text file, one entry a line; blank lines and lines starting with `#` are skipped.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { InputError } from '../pipeline/errors.ts';

export interface RemovalRequest {
  ids: ReadonlySet<string>;
  urls: ReadonlySet<string>;
  /** Lower-case host names. */
  domains: ReadonlySet<string>;
}

export interface RemovalFiles {
  ids?: string;
  urls?: string;
  domains?: string;
}

/** Why a document is named: its id, its URL, or the domain of its URL (with the entry that named it). */
export type Match = { by: 'id' | 'url' | 'domain'; entry: string };

async function entries(path: string, what: string, check?: (line: string) => string | null): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new InputError(path, {}, `cannot read the list of ${what} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const problem = check?.(line);
    if (problem) throw new InputError(path, { line: i + 1 }, problem);
    out.push(line);
  });
  return out;
}

/** A host name: letters, digits, dots and hyphens (an IDN in its xn-- form), no scheme or path. */
const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/;

export async function readRemovalRequest(files: RemovalFiles): Promise<RemovalRequest> {
  if (!files.ids && !files.urls && !files.domains) throw new InputError('refinery remove', {}, 'give what to remove: --ids FILE, --urls FILE or --domains FILE');
  const ids = files.ids ? await entries(files.ids, 'ids') : [];
  const urls = files.urls ? await entries(files.urls, 'URLs', (l) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(l) ? null : `"${l}" is not a URL (scheme://...)`)) : [];
  const domains = files.domains ? await entries(files.domains, 'domains', (l) => (HOST.test(l.toLowerCase()) ? null : `"${l}" is not a host name (example.com, without scheme or path)`)) : [];
  return { ids: new Set(ids), urls: new Set(urls), domains: new Set(domains.map((d) => d.toLowerCase())) };
}

/** The request's fingerprint: the same lists (in any order) give the same one. */
export function requestKey(r: RemovalRequest): string {
  const sorted = (s: ReadonlySet<string>) => [...s].sort();
  return createHash('sha256').update(JSON.stringify([sorted(r.ids), sorted(r.urls), sorted(r.domains)])).digest('hex').slice(0, 16);
}

function hostOf(url: string): string | null {
  try {
    return new URL(url).hostname.toLowerCase();
  } catch {
    return null;
  }
}

/** Why the request names a document with this id and URL, or null. */
export function matchOf(r: RemovalRequest, id: string, url: unknown): Match | null {
  if (r.ids.has(id)) return { by: 'id', entry: id };
  if (typeof url !== 'string') return null;
  if (r.urls.has(url)) return { by: 'url', entry: url };
  if (r.domains.size === 0) return null;
  const host = hostOf(url);
  // example.com, then com: the host and every parent domain.
  for (let h = host; h; h = h.includes('.') ? h.slice(h.indexOf('.') + 1) : null) if (r.domains.has(h)) return { by: 'domain', entry: h };
  return null;
}
