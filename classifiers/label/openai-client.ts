/**
 * A client for OpenAI-compatible servers (vLLM, TGI, llama.cpp's server, Ollama):
 * `/v1/chat/completions`, or `/v1/completions` with Llama 2's chat template formatted here.
 * Each request has a timeout; failures that may pass (network errors, timeouts, 429, 5xx) are
 * retried with exponential backoff (and the server's Retry-After when it sends one); request
 * starts are spaced to respect a rate cap. Concurrency is the caller's: it decides how many
 * `complete` calls are in flight.
 */
import { z } from 'zod';
import { RefineryError } from '../../pipeline/errors.ts';
import { llama2ChatPrompt } from './llama2-chat-template.ts';
import { Redactor } from '../../pipeline/secrets.ts';
import { endpointAuth } from './secrets.ts';

export const LlmClientOptions = z.object({
  endpoint: z.string().url().describe('Server base URL, with or without the trailing /v1 (e.g. http://127.0.0.1:8000); user:password@ in it is sent as HTTP Basic.'),
  model: z.string().min(1).describe('Model name the server knows, e.g. meta-llama/Llama-2-70b-chat-hf.'),
  api: z.enum(['chat', 'completions']).default('chat').describe('"chat": /v1/chat/completions; "completions": /v1/completions with the Llama 2 template.'),
  api_key: z.string().optional().describe('Sent as "Authorization: Bearer <key>" when set.'),
  temperature: z.number().min(0).default(0).describe('Greedy decoding: the same document gets the same answer.'),
  max_tokens: z.number().int().min(1).default(256).describe('Answer length cap (the rubrics ask for ≤ 100 words of reasoning and a final line).'),
  timeout_ms: z.number().int().min(1).default(120_000).describe('Per-request timeout.'),
  retries: z.number().int().min(0).default(5).describe('Retries after the first attempt.'),
  backoff_ms: z.number().int().min(0).default(1000).describe('First backoff; doubles each retry, capped at 60 s.'),
  rate: z.number().min(0).default(0).describe('Request starts per second, 0 = no cap.'),
  bos_text: z.boolean().default(false).describe('Completions API: write "<s>" before the template (for servers that add no BOS).'),
});
export type LlmClientOptions = z.infer<typeof LlmClientOptions>;

export class LlmRequestError extends RefineryError {
  override name = 'LlmRequestError';
  constructor(
    message: string,
    readonly status: number | null,
    readonly retryable: boolean,
    /** The server's Retry-After, when it sent one. */
    readonly retryAfterMs: number | null = null,
  ) {
    super(message);
  }
}

/**
 * fetch's own message is only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND, a TLS error)
 * is in its `cause`, an AggregateError when several addresses were tried.
 */
export function fetchErrorMessage(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const reasons: string[] = [];
  const seen = new Set<unknown>();
  const collect = (e: unknown) => {
    if (!(e instanceof Error) || seen.has(e)) return;
    seen.add(e);
    if (e instanceof AggregateError && e.errors.length) for (const inner of e.errors) collect(inner);
    else {
      const code = (e as Error & { code?: unknown }).code;
      if (e.message) reasons.push(e.message);
      else if (typeof code === 'string') reasons.push(code);
    }
    collect(e.cause);
  };
  collect(err.cause);
  const unique = [...new Set(reasons)].filter((r) => r !== err.message);
  return unique.length ? `${err.message} (${unique.join('; ')})` : err.message;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

interface ChatResponse {
  choices?: { message?: { content?: string | null }; text?: string }[];
}

export class LlmClient {
  readonly options: LlmClientOptions;
  private readonly base: string;
  private readonly authorization: string | null;
  /** Removes the API key and URL credentials from any text: use it on everything printed or stored. */
  readonly redactor: Redactor;
  private nextStart = 0;
  /** Requests sent (attempts, retries included), for the summary. */
  attempts = 0;

  constructor(options: Partial<LlmClientOptions> & Pick<LlmClientOptions, 'endpoint' | 'model'>) {
    this.options = LlmClientOptions.parse(options);
    const auth = endpointAuth(this.options.endpoint, this.options.api_key);
    this.redactor = new Redactor(auth.secrets);
    this.authorization = auth.authorization;
    const trimmed = auth.url.replace(/\/+$/, '');
    this.base = /\/v1$/.test(trimmed) ? trimmed : `${trimmed}/v1`;
  }

  /** Waits for this request's slot under the rate cap. */
  private async slot(): Promise<void> {
    if (this.options.rate <= 0) return;
    const interval = 1000 / this.options.rate;
    const now = Date.now();
    const start = Math.max(now, this.nextStart);
    this.nextStart = start + interval;
    if (start > now) await sleep(start - now);
  }

  private async once(system: string, user: string): Promise<string> {
    try {
      return await this.request(system, user);
    } catch (e) {
      throw this.redactor.redactError(e);
    }
  }

  private async request(system: string, user: string): Promise<string> {
    const o = this.options;
    const chat = o.api === 'chat';
    const body = chat
      ? {
          model: o.model,
          messages: [...(system ? [{ role: 'system', content: system }] : []), { role: 'user', content: user }],
          temperature: o.temperature,
          max_tokens: o.max_tokens,
        }
      : { model: o.model, prompt: llama2ChatPrompt(system, user, o.bos_text), temperature: o.temperature, max_tokens: o.max_tokens };
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.authorization) headers.authorization = this.authorization;
    await this.slot();
    this.attempts++;
    let res: Response;
    const url = `${this.base}/${chat ? 'chat/completions' : 'completions'}`;
    try {
      res = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), signal: AbortSignal.timeout(o.timeout_ms) });
    } catch (e) {
      const timedOut = e instanceof Error && (e.name === 'TimeoutError' || e.name === 'AbortError');
      throw new LlmRequestError(timedOut ? `${url}: no answer within ${o.timeout_ms} ms` : `${url}: ${fetchErrorMessage(e)}`, null, true);
    }
    const text = await res.text();
    if (!res.ok) {
      const retryable = res.status === 408 || res.status === 429 || res.status >= 500;
      const after = Number(res.headers.get('retry-after'));
      const retryAfterMs = Number.isFinite(after) && after > 0 ? Math.min(after * 1000, 60_000) : null;
      throw new LlmRequestError(`${url}: HTTP ${res.status}: ${text.slice(0, 200)}`, res.status, retryable, retryAfterMs);
    }
    let json: ChatResponse;
    try {
      json = JSON.parse(text) as ChatResponse;
    } catch {
      throw new LlmRequestError(`${url}: the answer is not JSON: ${text.slice(0, 200)}`, res.status, true);
    }
    const choice = json.choices?.[0];
    const content = chat ? choice?.message?.content : choice?.text;
    if (typeof content !== 'string') throw new LlmRequestError(`${url}: the answer has no ${chat ? 'choices[0].message.content' : 'choices[0].text'}`, res.status, false);
    return content;
  }

  /** The model's answer to one prompt, after retries; throws LlmRequestError when it gives up. */
  async complete(system: string, user: string): Promise<string> {
    const { retries, backoff_ms: backoff } = this.options;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.once(system, user);
      } catch (e) {
        if (!(e instanceof LlmRequestError) || !e.retryable || attempt >= retries) throw e;
        const wait = e.retryAfterMs ?? Math.min(60_000, backoff * 2 ** attempt) * (0.5 + Math.random() / 2);
        await sleep(wait);
      }
    }
  }
}
