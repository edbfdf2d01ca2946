import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { loadRubric, parseAnswer, parseRubric, renderPrompt } from '../classifiers/label/rubric.ts';
import { llama2ChatPrompt } from '../classifiers/label/llama2-chat-template.ts';
import { LlmClient } from '../classifiers/label/openai-client.ts';
import { DocSampler } from '../classifiers/label/sample.ts';
import { labelDocuments, summaryPathFor, type LabelRecord } from '../classifiers/label/labeller.ts';
import { startFakeLlm } from './classifiers-llm-server.ts';
import { main } from '../bin/cli.ts';

async function tmp(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'refinery-label-'));
}

async function writeDocs(dir: string, docs: { id: string; text: string; source?: string }[]): Promise<string> {
  const file = join(dir, 'docs.jsonl');
  await writeFile(file, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  return file;
}

async function readLabels(file: string): Promise<LabelRecord[]> {
  return (await readFile(file, 'utf8')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as LabelRecord);
}

test('the shipped rubrics load by name and read their answers; unparsable answers give null', async () => {
  const q = await loadRubric('llama3-quality');
  assert.equal(q.kind, 'binary');
  assert.ok(renderPrompt(q, 'DOC $& $1 TEXT').includes('"""\nDOC $& $1 TEXT\n"""'));
  assert.equal(parseAnswer(q, 'Requirement 1 is met...\nAnswer: yes'), 1);
  assert.equal(parseAnswer(q, 'The format is "Answer: yes" or "Answer: no".\nAnswer: **No**'), 0);
  assert.equal(parseAnswer(q, 'No.'), 0);
  assert.equal(parseAnswer(q, 'I cannot decide.'), null);
  const edu = await loadRubric('fineweb-edu-additive');
  assert.equal(edu.kind, 'score');
  assert.equal(parseAnswer(edu, 'Some basics, coherent.\nEducational score: 3'), 3);
  assert.equal(parseAnswer(edu, 'Educational score: 7'), null);
  assert.equal(parseAnswer(edu, '4'), 4);
  assert.equal(parseAnswer(edu, 'Very good page'), null);
  assert.throws(() => parseRubric('no front matter', 'r.md'), /r\.md:1: a rubric starts with YAML front matter/);
  assert.throws(() => parseRubric('---\nname: x\nkind: binary\nanswer_pattern: "(yes)"\n---\nno placeholder', 'r.md'), /no \{document\} placeholder/);
});

test("Llama 2's chat template is formatted exactly", () => {
  assert.equal(llama2ChatPrompt('Be brief.', 'Grade this.'), '[INST] <<SYS>>\nBe brief.\n<</SYS>>\n\nGrade this. [/INST]');
  assert.equal(llama2ChatPrompt('', 'Hi', true), '<s>[INST] Hi [/INST]');
});

test('client: chat and completions requests, bearer key, retries on 500 and 429, gives up after the retries, no retry on 400', async () => {
  const server = await startFakeLlm({
    answer: () => 'Answer: yes',
    failWith: (doc, attempt) => (doc === 'flaky' && attempt <= 2 ? 500 : doc === 'busy' && attempt === 1 ? 429 : doc === 'down' ? 503 : doc === 'bad' ? 400 : undefined),
  });
  try {
    const chat = new LlmClient({ endpoint: server.url, model: 'm', api_key: 'k', backoff_ms: 1, retries: 3 });
    assert.equal(await chat.complete('sys', 'q\n"""\nflaky\n"""'), 'Answer: yes');
    assert.equal(await chat.complete('sys', 'q\n"""\nbusy\n"""'), 'Answer: yes');
    const first = server.requests[0]!;
    assert.equal(first.path, '/v1/chat/completions');
    assert.equal(first.authorization, 'Bearer k');
    assert.deepEqual(first.body.messages, [
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'q\n"""\nflaky\n"""' },
    ]);
    assert.equal(first.body.temperature, 0);
    await assert.rejects(chat.complete('', '"""\ndown\n"""'), /HTTP 503/);
    assert.equal(server.requests.filter((r) => r.document === 'down').length, 4); // 1 + 3 retries
    await assert.rejects(chat.complete('', '"""\nbad\n"""'), /HTTP 400/);
    assert.equal(server.requests.filter((r) => r.document === 'bad').length, 1);

    const completions = new LlmClient({ endpoint: `${server.url}/v1/`, model: 'llama-2', api: 'completions' });
    assert.equal(await completions.complete('S', 'U\n"""\nok\n"""'), 'Answer: yes');
    const last = server.requests.at(-1)!;
    assert.equal(last.path, '/v1/completions');
    assert.equal(last.body.prompt, '[INST] <<SYS>>\nS\n<</SYS>>\n\nU\n"""\nok\n""" [/INST]');
  } finally {
    await server.close();
  }
});

test('client: a request that outlives its timeout is retried, then reported', async () => {
  const server = await startFakeLlm({ answer: () => 'Answer: no', delayMs: () => 300 });
  try {
    const client = new LlmClient({ endpoint: server.url, model: 'm', timeout_ms: 20, retries: 1, backoff_ms: 1 });
    await assert.rejects(client.complete('', '"""\nslow\n"""'), /no answer within 20 ms/);
    assert.equal(client.attempts, 2);
  } finally {
    await server.close();
  }
});

test('sampling is seeded, independent of input order, nested in n, and stratified shares are equal', () => {
  const docs = Array.from({ length: 300 }, (_, i) => ({ id: `d${i}`, text: 't', meta: { source: i < 250 ? 'big' : i < 290 ? 'mid' : 'small' } }));
  const pick = (n: number, list: typeof docs, seed = 1, by?: string) => {
    const s = new DocSampler(n, seed, by);
    for (const d of list) s.offer(d);
    return s.result().map((d) => d.id);
  };
  const a = pick(30, docs);
  assert.equal(a.length, 30);
  assert.deepEqual(pick(30, [...docs].reverse()), a);
  assert.notDeepEqual(pick(30, docs, 2), a);
  const small = new Set(pick(10, docs));
  assert.ok([...small].every((id) => a.includes(id)));
  const strat = pick(30, docs, 1, 'source');
  const bySource = (id: string) => docs.find((d) => d.id === id)!.meta.source;
  const counts = { big: 0, mid: 0, small: 0 } as Record<string, number>;
  for (const id of strat) counts[bySource(id)]!++;
  assert.deepEqual(counts, { big: 10, mid: 10, small: 10 });
  // A stratum smaller than its share gives the rest to the others.
  const uneven = pick(60, docs, 1, 'source');
  const c2 = { big: 0, mid: 0, small: 0 } as Record<string, number>;
  for (const id of uneven) c2[bySource(id)]!++;
  assert.deepEqual(c2, { big: 25, mid: 25, small: 10 });
});

test('labelling: bounded concurrency, raw answers kept, unparsable counted, failures left for the resumed run, same file at any concurrency', async () => {
  const dir = await tmp();
  const docs = Array.from({ length: 40 }, (_, i) => ({ id: `doc-${i}`, text: `Document number ${i}. ${'word '.repeat(i % 7)}${i % 5 === 0 ? 'GARBLE' : ''}` }));
  const input = await writeDocs(dir, docs);
  let outage = true;
  const server = await startFakeLlm({
    answer: (d) => (d.includes('GARBLE') ? 'I would rather not say.' : `Reasoning.\nAnswer: ${d.length > 25 ? 'yes' : 'no'}`),
    failWith: (d) => (outage && d.startsWith('Document number 3') ? 503 : undefined),
    delayMs: () => 2,
  });
  try {
    const out = join(dir, 'labels.jsonl');
    const common = { endpoint: server.url, model: 'fake-llama', n: 30, seed: 4, concurrency: 3, retries: 1, backoff_ms: 1 };
    const first = await labelDocuments([input], out, common);
    assert.ok(server.maxInFlight <= 3, `max in flight ${server.maxInFlight}`);
    assert.equal(first.sampled, 30);
    assert.ok(first.failed > 0, 'some documents failed during the outage');
    assert.equal(first.labelled_now + first.failed, 30);
    const afterFirst = await readLabels(out);
    assert.equal(afterFirst.length, first.labelled_now);
    const garbled = afterFirst.filter((r) => r.text.includes('GARBLE'));
    assert.ok(garbled.length > 0);
    for (const r of garbled) assert.deepEqual([r.label, r.raw], [null, 'I would rather not say.']);
    assert.equal(first.unparsable_now, garbled.length);

    outage = false;
    const asked = server.requests.length;
    const second = await labelDocuments([input], out, { ...common, concurrency: 7 });
    assert.equal(second.already_labelled, first.labelled_now);
    assert.equal(second.labelled_now, first.failed);
    assert.equal(server.requests.length - asked, first.failed, 'only the failed documents are asked again');
    const all = await readLabels(out);
    assert.equal(new Set(all.map((r) => r.id)).size, 30);
    const summary = JSON.parse(await readFile(summaryPathFor(out), 'utf8'));
    const unparsable = all.filter((r) => r.label === null).length;
    assert.equal(unparsable, all.filter((r) => r.text.includes('GARBLE')).length);
    assert.equal(summary.label_counts.null, unparsable);
    assert.equal((summary.label_counts['0'] ?? 0) + (summary.label_counts['1'] ?? 0) + unparsable, 30);

    // One run without outage, at another concurrency, writes the same records in the same order.
    const fresh = join(dir, 'fresh.jsonl');
    await labelDocuments([input], fresh, { ...common, concurrency: 1 });
    const once = join(dir, 'once.jsonl');
    await labelDocuments([input], once, { ...common, concurrency: 8 });
    assert.equal(await readFile(fresh, 'utf8'), await readFile(once, 'utf8'));
  } finally {
    await server.close();
  }
});

test('labelling cuts documents to the token budget and records that it did', async () => {
  const dir = await tmp();
  const input = await writeDocs(dir, [{ id: 'long', text: 'The quick brown fox jumps over the lazy dog. '.repeat(100) }]);
  const server = await startFakeLlm({ answer: () => 'Answer: yes' });
  try {
    const out = join(dir, 'l.jsonl');
    await labelDocuments([input], out, { endpoint: server.url, model: 'm', max_doc_tokens: 20 });
    const [r] = await readLabels(out);
    assert.equal(r!.truncated, true);
    assert.ok(r!.text.length < 120 && r!.text.startsWith('The quick brown fox'), r!.text);
    assert.equal(server.requests[0]!.document, r!.text);
  } finally {
    await server.close();
  }
});

test('no server at the endpoint: every failure names the cause (ECONNREFUSED) and `classify label` exits 1', async () => {
  const dir = await tmp();
  const input = await writeDocs(dir, [{ id: 'a', text: 'First document.' }, { id: 'b', text: 'Second document.' }]);
  // A port that was free a moment ago: nothing listens there.
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  await new Promise((r) => srv.close(r));
  const endpoint = `http://127.0.0.1:${port}`;

  const summary = await labelDocuments([input], join(dir, 'direct.jsonl'), { endpoint, model: 'm', n: 2, retries: 1, backoff_ms: 1 });
  assert.equal(summary.failed, 2);
  assert.equal(summary.labelled_now, 0);
  for (const f of summary.failures) assert.match(f, new RegExp(`^[ab]: ${endpoint}/v1/chat/completions: fetch failed \\(connect ECONNREFUSED 127\\.0\\.0\\.1:${port}\\)$`));

  const stderr: string[] = [];
  const stdout: string[] = [];
  const writes = [process.stderr.write.bind(process.stderr), process.stdout.write.bind(process.stdout)] as const;
  process.stderr.write = ((c: string | Uint8Array) => stderr.push(String(c)) > 0) as typeof process.stderr.write;
  process.stdout.write = ((c: string | Uint8Array) => stdout.push(String(c)) > 0) as typeof process.stdout.write;
  let code: number;
  try {
    code = await main(['node', 'refinery', 'classify', 'label', input, '--endpoint', endpoint, '--model', 'm', '-n', '2', '--retries', '0', '-o', join(dir, 'cli.jsonl')]);
  } finally {
    [process.stderr.write, process.stdout.write] = writes;
  }
  assert.equal(code, 1, stderr.join(''));
  assert.match(stderr.join(''), /refinery: no document could be labelled: all 2 requests failed after the retries \([ab]: .*ECONNREFUSED/);
  assert.match(stdout.join(''), /first failures:\n {2}[ab]: .*fetch failed \(connect ECONNREFUSED/);
});
