/**
 * Credentials of the LLM endpoint, and their redaction. The API key and any `user:password@`
 * in `--endpoint` are secrets: they go out only in the Authorization header, and every message,
 * log line and file the labeller writes passes through `redact` first, because servers and
 * proxies may echo request headers or the URL in an error body (pipeline/secrets.ts redacts).
 */
import { RefineryError } from '../../pipeline/errors.ts';

export interface EndpointAuth {
  /** The endpoint without credentials: what is requested and printed. */
  url: string;
  /** The Authorization header value, or null. */
  authorization: string | null;
  /** Every secret, to redact. */
  secrets: string[];
}

/**
 * Credentials in the URL are sent as HTTP Basic, as curl and browsers send them (what a reverse
 * proxy in front of the server checks); the API key is sent as `Bearer <key>` (what vLLM,
 * llama.cpp's server and TGI check). The two cannot share the one Authorization header.
 */
export function endpointAuth(endpoint: string, apiKey: string | undefined): EndpointAuth {
  const url = new URL(endpoint);
  const secrets = apiKey ? [apiKey] : [];
  if (url.username === '' && url.password === '') {
    return { url: url.href, authorization: apiKey ? `Bearer ${apiKey}` : null, secrets };
  }
  const user = decodeURIComponent(url.username);
  const password = decodeURIComponent(url.password);
  const basic = Buffer.from(`${user}:${password}`).toString('base64');
  secrets.push(url.password, password, basic);
  if (url.username !== '') secrets.push(`${url.username}:${url.password}`);
  url.username = '';
  url.password = '';
  if (apiKey) {
    throw new RefineryError(`endpoint ${url.href}: credentials in the URL (sent as HTTP Basic) and an API key (sent as Bearer) cannot both be used; give one of them`);
  }
  return { url: url.href, authorization: `Basic ${basic}`, secrets };
}
