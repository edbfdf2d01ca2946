/**
 * URL normalisation for URL dedup: two URLs that serve the same page in practice become one
 * string. Scheme and host lower case, `www.` dropped, default ports and fragments removed,
 * `http` and `https` merged, trailing slash of the path dropped, query parameters sorted and
 * tracking parameters (utm_*, fbclid, gclid ...) removed.
 */
const TRACKING = /^(utm_[a-z]+|fbclid|gclid|dclid|msclkid|mc_cid|mc_eid|_ga|yclid|ref_src)$/i;

export function normalizeUrl(raw: string, options: { keepQuery: boolean }): string | null {
  let u: URL;
  try {
    u = new URL(raw.trim());
  } catch {
    return null;
  }
  const host = u.hostname.toLowerCase().replace(/^www\d*\./, '');
  const port = u.port && !['80', '443'].includes(u.port) ? `:${u.port}` : '';
  let path = u.pathname.replace(/\/{2,}/g, '/');
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  if (/\/index\.(html?|php|aspx?)$/i.test(path)) path = path.replace(/\/index\.[a-z]+$/i, '') || '/';
  let query = '';
  if (options.keepQuery) {
    const params = [...u.searchParams.entries()].filter(([k]) => !TRACKING.test(k));
    params.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
    if (params.length > 0) query = '?' + new URLSearchParams(params).toString();
  }
  const scheme = u.protocol === 'https:' ? 'http:' : u.protocol.toLowerCase();
  return `${scheme}//${host}${port}${path}${query}`;
}
