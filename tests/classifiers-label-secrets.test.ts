/**
 * `classify label` keeps secrets secret: an API key echoed back by the server in an error body,
 * and credentials in --endpoint, appear in no log line, error, labels file or summary; URL
 * credentials are sent as an HTTP Basic header.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../bin/cli.ts';
import { summaryPathFor } from '../classifiers/label/labeller.ts';
import { LlmClient } from '../classifiers/label/openai-client.ts';

const KEY = 'sk-live-4f9c2e7b1d8a';
const PASSWORD = 's3cr3t/p@ss';
const root = await mkdtemp(join(tmpdir(), 'refinery-label-secrets-'));
after(() => rm(root, { recursive: true, force: true }));

interface Seen {
  authorization: string | undefined;
}

/** An OpenAI-protocol server that answers with `handle`, after recording the Authorization header. */
async function server(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ url: string; seen: Seen[]; close: () => Promise<void> }> {
  const seen: Seen[] = [];
  const srv = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization });
      handle(req, res);
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise((r) => srv.close(() => r())) };
}

/** A badly behaved server: a 401 whose body echoes the request's Authorization header and URL. */
const echoing = (req: IncomingMessage, res: ServerResponse) =>
  res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `invalid credentials: ${req.headers.authorization} for ${req.headers.host}${req.url}` }));

const answering = (_req: IncomingMessage, res: ServerResponse) =>
  res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ choices: [{ message: { content: 'Answer: yes' } }] }));

async function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  const chunks: string[] = [];
  const writes = [process.stderr.write.bind(process.stderr), process.stdout.write.bind(process.stdout)] as const;
  const capture = ((c: string | Uint8Array) => chunks.push(String(c)) > 0) as typeof process.stderr.write;
  process.stderr.write = capture;
  process.stdout.write = capture;
  Object.assign(process.env, env);
  try {
    return { code: await main(['node', 'refinery', ...args]), out: chunks.join('') };
  } finally {
    [process.stderr.write, process.stdout.write] = writes;
    for (const k of Object.keys(env)) delete process.env[k];
  }
}

async function input(): Promise<string> {
  const file = join(root, 'docs.jsonl');
  await writeFile(file, [{ id: 'a', text: 'First document.' }, { id: 'b', text: 'Second document.' }].map((d) => JSON.stringify(d)).join('\n') + '\n');
  return file;
}

test('an API key the server echoes in an error body is in no output, error or file', async () => {
  const llm = await server(echoing);
  try {
    const output = join(root, 'key.jsonl');
    const withKey = await runCli(['classify', 'label', await input(), '--endpoint', llm.url, '--model', 'm', '-n', '2', '--retries', '0', '--api-key-env', 'REFINERY_TEST_KEY', '-o', output], { REFINERY_TEST_KEY: KEY });
    assert.equal(withKey.code, 1);
    assert.equal(llm.seen.at(-1)!.authorization, `Bearer ${KEY}`, 'the key is still sent to the server');
    assert.match(withKey.out, /HTTP 401: .*invalid credentials: Bearer \[redacted\]/, 'the error is still shown');
    const summary = await readFile(summaryPathFor(output), 'utf8');
    assert.match(summary, /\[redacted\]/);
    for (const text of [withKey.out, summary]) assert.ok(!text.includes(KEY), text);
  } finally {
    await llm.close();
  }
});

test('credentials in --endpoint are sent as HTTP Basic, and printed or stored nowhere', async () => {
  const llm = await server(answering);
  try {
    const endpoint = llm.url.replace('http://', `http://labeller:${encodeURIComponent(PASSWORD)}@`);
    const output = join(root, 'basic.jsonl');
    const { code, out } = await runCli(['classify', 'label', await input(), '--endpoint', endpoint, '--model', 'm', '-n', '2', '--retries', '0', '-o', output]);
    assert.equal(code, 0, out);
    assert.equal(llm.seen.length, 2);
    assert.ok(llm.seen.every((s) => s.authorization === `Basic ${Buffer.from(`labeller:${PASSWORD}`).toString('base64')}`));
    const files = (await readFile(output, 'utf8')) + (await readFile(summaryPathFor(output), 'utf8'));
    for (const text of [out, files]) {
      assert.ok(!text.includes(PASSWORD) && !text.includes(encodeURIComponent(PASSWORD)), text);
    }
  } finally {
    await llm.close();
  }
});

test('a server that echoes the Basic credentials and the URL in its error: redacted in every form', async () => {
  const llm = await server(echoing);
  try {
    const endpoint = llm.url.replace('http://', `http://labeller:${encodeURIComponent(PASSWORD)}@`);
    const output = join(root, 'basic-echo.jsonl');
    const { code, out } = await runCli(['classify', 'label', await input(), '--endpoint', endpoint, '--model', 'm', '-n', '2', '--retries', '0', '-o', output]);
    assert.equal(code, 1);
    const summary = await readFile(summaryPathFor(output), 'utf8');
    const basic = Buffer.from(`labeller:${PASSWORD}`).toString('base64');
    for (const text of [out, summary]) {
      for (const secret of [PASSWORD, encodeURIComponent(PASSWORD), basic]) assert.ok(!text.includes(secret), `${secret} in ${text}`);
    }
    assert.match(out, /invalid credentials: Basic \[redacted\]/);
  } finally {
    await llm.close();
  }
});

test('URL credentials and an API key together are refused without printing either', () => {
  assert.throws(
    () => new LlmClient({ endpoint: `http://u:${encodeURIComponent(PASSWORD)}@127.0.0.1:1`, model: 'm', api_key: KEY }),
    (e: unknown) => e instanceof Error && /cannot both be used/.test(e.message) && !e.message.includes(KEY) && !e.message.includes('s3cr3t'),
  );
});
