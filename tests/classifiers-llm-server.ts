/**
 * A local stand-in for an LLM server speaking the OpenAI protocol (/v1/chat/completions and
 * /v1/completions) on 127.0.0.1. It finds the document between the rubric's """ fences and
 * answers from a deterministic rule; it can also fail, stall or babble on chosen documents,
 * and it records every request it saw.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeLlmBehaviour {
  /** The answer text for a document (the rule). */
  answer: (document: string) => string;
  /** Per request: HTTP status to fail with (500, 429 ...), or undefined to answer. */
  failWith?: (document: string, attempt: number) => number | undefined;
  /** Milliseconds to wait before answering. */
  delayMs?: (document: string) => number;
}

export interface FakeLlmRequest {
  path: string;
  body: Record<string, unknown>;
  document: string;
  authorization: string | undefined;
}

export interface FakeLlm {
  url: string;
  requests: FakeLlmRequest[];
  maxInFlight: number;
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

export function documentIn(prompt: string): string {
  const m = /"""\n([\s\S]*?)\n"""/.exec(prompt);
  return m ? m[1]! : '';
}

export async function startFakeLlm(behaviour: FakeLlmBehaviour): Promise<FakeLlm> {
  const attempts = new Map<string, number>();
  let inFlight = 0;
  const state: FakeLlm = { url: '', requests: [], maxInFlight: 0, close: async () => {} };
  const server: Server = createServer(async (req, res) => {
    inFlight++;
    state.maxInFlight = Math.max(state.maxInFlight, inFlight);
    try {
      const body = JSON.parse(await readBody(req)) as Record<string, unknown>;
      const chat = req.url === '/v1/chat/completions';
      if (!chat && req.url !== '/v1/completions') {
        res.writeHead(404).end('{"error":"not found"}');
        return;
      }
      const prompt = chat
        ? ((body.messages as { role: string; content: string }[]).find((m) => m.role === 'user')?.content ?? '')
        : String(body.prompt);
      const document = documentIn(prompt);
      state.requests.push({ path: req.url!, body, document, authorization: req.headers.authorization });
      const attempt = (attempts.get(document) ?? 0) + 1;
      attempts.set(document, attempt);
      const delay = behaviour.delayMs?.(document) ?? 0;
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      const status = behaviour.failWith?.(document, attempt);
      if (status !== undefined) {
        res.writeHead(status, status === 429 ? { 'retry-after': '0.01' } : {}).end('{"error":"try later"}');
        return;
      }
      const text = behaviour.answer(document);
      const choice = chat ? { index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' } : { index: 0, text, finish_reason: 'stop' };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'x', object: chat ? 'chat.completion' : 'text_completion', model: body.model, choices: [choice] }));
    } finally {
      inFlight--;
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); });
  return state;
}
