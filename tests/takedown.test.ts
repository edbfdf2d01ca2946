/**
 * `refinery remove` (takedown/): documents named by id, URL or domain leave a finished run as if
 * its input never had them. Each test removes from a real run (gopher-quality, exact-dedup,
 * decontam-index, tokenize) and compares with a fresh run of the same pipeline on the input without those
 * documents: kept/, rejected/, errors/, the token shards (packing included) and their manifest,
 * the contamination ledger are the same bytes; stats.json's counts are the same.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync, gunzipSync } from 'node:zlib';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadPipelineFile } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { removeFromRun } from '../takedown/remove-run.ts';
import { openRun, type OpenedRun } from '../pipeline/run-folder/open-run.ts';
import { writeRunReport } from '../mixes/report/index.ts';
import { checkContamination } from '../decontam/check.ts';
import { idsOfTokenFile, openTokenReader } from '../mixes/shards/token-locations.ts';
import { groupRows } from '../takedown/token-shards.ts';
import type { RunFiles } from '../pipeline/run-folder/files.ts';

registerBuiltinStages();

const ROOT = fileURLToPath(new URL('..', import.meta.url));
let work: string;

/** The researcher report, as the command line writes it when a run finishes. */
const report = (dir: string, files: RunFiles) => writeRunReport(dir, join(dir, 'report'), files);

interface Rec {
  id: string;
  text: string;
  url: string;
  source: string;
}

/** Which input shard a record is in: by its place in the whole corpus, so that the corpus without some records keeps the others where they were. */
const shardOf = new Map<string, number>();

/** Real text: 24 speeches (long, kept) and 36 e-mails (many rejected), each with a URL; one speech twice (an exact-dedup cluster). */
async function records(): Promise<Rec[]> {
  const read = async (f: string) => gunzipSync(await readFile(join(ROOT, 'examples/corpus', f))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; text: string; source?: string });
  const speeches = (await read('speeches.jsonl.gz')).slice(0, 24);
  const emails = (await read('email.jsonl.gz')).slice(0, 36);
  const hosts = ['news.example.org', 'blog.example.org', 'www.other.example'];
  const out: Rec[] = [];
  [...speeches, ...emails].forEach((d, i) => out.push({ id: d.id, text: d.text, url: `https://${hosts[i % 3]}/page/${i}`, source: d.source ?? 'web' }));
  // Two documents of a domain to take down, one on a subdomain.
  out[3]!.url = 'https://takedown.example/a';
  out[7]!.url = 'https://www.takedown.example/b';
  out.push({ ...out[10]!, id: `${out[10]!.id}-copy`, url: 'https://news.example.org/copy' });
  out.forEach((r, i) => shardOf.set(r.id, i % 3));
  return out;
}

/** The records in three input shards, in the same order. */
async function writeCorpus(dir: string, recs: Rec[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (let s = 0; s < 3; s++) {
    const part = recs.filter((r) => shardOf.get(r.id) === s);
    await writeFile(join(dir, `part-${s}.jsonl.gz`), gzipSync(part.map((r) => JSON.stringify(r)).join('\n') + '\n'));
  }
}

const TOKENIZE = '{stage: tokenize, options: {seq_len: 256, row_group_size: 4096, shard_size: 6000}}';

async function run(name: string, corpusDir: string, tokenize = TOKENIZE, ledgerPartitions = 4, output = join(work, name)): Promise<string> {
  const f = join(work, `${name}.yaml`);
  await writeFile(f, `inputs: ["${corpusDir}/*.jsonl.gz"]\noutput: ${output}\nworkers: 1\nseed: 5\nstages: [gopher-quality, exact-dedup, {stage: decontam-index, options: {partitions: ${ledgerPartitions}}}, ${tokenize}]\n`);
  await runPipeline(await loadPipelineFile(f), { quiet: true, onFinished: report });
  return output;
}

/** Files of a run folder, by path relative to it. */
async function files(dir: string, under = ['kept', 'rejected', 'errors', 'tokens', 'stats', 'decontam']): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for (const top of under) {
    for (const e of await readdir(join(dir, top), { recursive: true, withFileTypes: true }).catch(() => [])) {
      if (e.isFile()) out.set(relative(dir, join(e.parentPath, e.name)), await readFile(join(e.parentPath, e.name)));
    }
  }
  return out;
}

/** stats.json without timings (the phases and every stage's seconds) and the config's hash (the inputs' paths differ). */
async function counts(dir: string): Promise<unknown> {
  const s = JSON.parse(await readFile(join(dir, 'stats.json'), 'utf8')) as { stages: { seconds?: number }[]; phases?: unknown; config_hash?: string };
  delete s.phases;
  delete s.config_hash;
  for (const st of s.stages) delete st.seconds;
  return s;
}

/** The same bytes in both runs, for every file but the statistics a dedup stage keeps of its keys (`records`). */
async function assertSameRun(got: string, want: string): Promise<void> {
  const [a, b] = [await files(got), await files(want)];
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), 'the same files');
  for (const [k, v] of b) {
    if (k === 'stats/exact-dedup.json') {
      const strip = (x: Buffer) => ({ ...(JSON.parse(x.toString()) as Record<string, unknown>), records: 0 });
      assert.deepEqual(strip(a.get(k)!), strip(v), k);
      continue;
    }
    assert.ok(a.get(k)!.equals(v), `${k}: the bytes of a run whose input never had the documents`);
  }
  assert.deepEqual(await counts(got), await counts(want));
}

let all: Rec[];
let original: string;
const lists = { ids: '', urls: '', domains: '' };
let gone: Set<string>;

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'refinery-takedown-test-'));
  all = await records();
  await writeCorpus(join(work, 'corpus'), all);
  original = await run('original', join(work, 'corpus'));
  const kept = (await readdir(join(original, 'kept'))).length;
  assert.equal(kept, 3);
  // A kept speech and a rejected e-mail by id, a kept speech by URL, two documents by domain.
  const keptIds = new Set<string>();
  for (const f of await readdir(join(original, 'kept'))) for (const l of gunzipSync(await readFile(join(original, 'kept', f))).toString().trim().split('\n')) keptIds.add((JSON.parse(l) as { id: string }).id);
  const rejected = all.find((r, i) => i >= 24 && !keptIds.has(r.id))!;
  assert.ok(keptIds.has(all[4]!.id) && keptIds.has(all[13]!.id), 'speeches are kept');
  await writeFile((lists.ids = join(work, 'ids.txt')), `# takedown request 1\n${all[4]!.id}\n\n${rejected.id}\n`);
  await writeFile((lists.urls = join(work, 'urls.txt')), `${all[13]!.url}\n`);
  await writeFile((lists.domains = join(work, 'domains.txt')), 'takedown.example\n');
  gone = new Set([all[4]!.id, rejected.id, all[13]!.id, all[3]!.id, all[7]!.id]);
  await writeCorpus(join(work, 'corpus-minus'), all.filter((r) => !gone.has(r.id)));
});
after(async () => {
  await rm(work, { recursive: true, force: true });
});

test('removed by id, URL and domain: the run is the bytes of a fresh run on the input without them, packed token rows included', async () => {
  const copy = join(work, 'removed');
  await cp(original, copy, { recursive: true });
  const fresh = await run('fresh', join(work, 'corpus-minus'));
  const r = await removeFromRun(copy, lists, { onReport: report });
  assert.deepEqual(r.documents, { kept: 4, rejected: 1, errored: 0 });
  assert.equal(r.resumed, false);
  await assertSameRun(copy, fresh);
  // Only the groups of input shards that held a kept document were written again.
  const before = await files(original, ['tokens']);
  const now = await files(copy, ['tokens']);
  const groups = new Set(r.tokens.rewritten.map((f) => f.replace(/-\d+\.parquet$/, '')));
  for (const [k, v] of before) if (!groups.has(k.replace(/^tokens\//, '').replace(/-\d+\.parquet$/, '')) && k.endsWith('.parquet')) assert.ok(now.get(k)!.equals(v), `${k} untouched`);
  // The log says what went and why.
  const log = (await readFile(join(copy, r.log), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { id: string; outcome: string; match: { by: string; entry: string } });
  assert.deepEqual(new Set(log.map((l) => l.id)), gone);
  assert.deepEqual(log.filter((l) => l.match.by === 'domain').map((l) => l.match.entry), ['takedown.example', 'takedown.example']);
  assert.deepEqual(await readdir(join(copy, 'removals')), [r.log.slice('removals/'.length)], 'the journal is gone');
  // report/ is written again from the run as it is: no trace of the removed documents.
  const written = await readFile(join(copy, 'report', 'report.json'), 'utf8');
  assert.ok(written.includes(JSON.stringify(all[5]!.id)) || written.length > 0);
  for (const id of gone) assert.ok(!written.includes(JSON.stringify(id)), `${id} is not in the report`);
  // Asked again: nothing left to remove.
  assert.deepEqual((await removeFromRun(copy, lists)).documents, { kept: 0, rejected: 0, errored: 0 });
});

/** The run opened as usual, its put and delete failing after `n` of them: a removal killed at that point. */
function failingAfter(n: number): (path: string) => Promise<OpenedRun> {
  let calls = 0;
  const step = () => {
    if (++calls > n) throw new Error(`killed after ${n} steps`);
  };
  return async (path) => {
    const run = await openRun(path);
    return { ...run, put: async (p) => (step(), run.put(p)), delete: async (p) => (step(), run.delete(p)) };
  };
}

test('a removal cut short at any step and run again ends with the run an uninterrupted removal leaves', async () => {
  // One row per document this time, one file per input shard, one ledger partition; two documents of one input shard: few steps.
  const base = await run('resume-original', join(work, 'corpus'), '{stage: tokenize, options: {shard_size: 100000000}}', 1);
  const one = { ids: join(work, 'ids-one-shard.txt') };
  await writeFile(one.ids, `${all[4]!.id}\n${all[7]!.id}\n`);
  const whole = join(work, 'whole');
  await cp(base, whole, { recursive: true });
  const r = await removeFromRun(whole, one);
  assert.deepEqual([r.documents.kept, r.tokens.groups], [2, 1]);
  const want = await files(whole, ['kept', 'rejected', 'errors', 'tokens', 'stats', 'decontam', 'removals']);
  let step = 0;
  for (;;) {
    const copy = join(work, `cut-${step}`);
    await cp(base, copy, { recursive: true });
    const cut = await removeFromRun(copy, one, { openRun: failingAfter(step) }).then(() => null, (e: Error) => e);
    if (cut === null) break;
    assert.match(cut.message, /killed after/);
    // Another removal is refused while this one is unfinished (its journal was written before the first store).
    await assert.rejects(removeFromRun(copy, lists), /another removal \([0-9a-f]+, --ids \S+ids-one-shard.txt\) was cut short; finish it first by running refinery remove with the same lists/);
    const again = await removeFromRun(copy, one);
    assert.equal(again.resumed, true, `step ${step}`);
    const got = await files(copy, ['kept', 'rejected', 'errors', 'tokens', 'stats', 'decontam', 'removals']);
    assert.deepEqual([...got.keys()].sort(), [...want.keys()].sort(), `step ${step}: the same files`);
    for (const [k, v] of want) assert.ok(got.get(k)!.equals(v), `step ${step}: ${k}`);
    assert.deepEqual(await counts(copy), await counts(whole));
    await rm(copy, { recursive: true, force: true });
    step++;
  }
  assert.ok(step >= 12, `${step} steps`);
});

test('decontam check names the token shards that hold an overlapping document; after its removal the ledger no longer holds it', async () => {
  const item = { index: 0, id: 'leaked', text: all[13]!.text.split(/\s+/).slice(100, 140).join(' ') };
  const [report] = (await checkContamination(original, [item])).items;
  const doc = report!.documents[0]!;
  assert.equal(doc.id, all[13]!.id);
  assert.equal(report!.overlap, 1);
  // Its input shard's group has several files: the ones named hold it, the others do not.
  const group = (await readdir(join(original, 'tokens'))).filter((f) => f.startsWith(`shard-0000${doc.shard}-`));
  assert.ok(group.length > 2 && doc.token_files.length >= 1, doc.token_files.join(', '));
  const reader = await openTokenReader();
  try {
    for (const f of group) assert.equal((await idsOfTokenFile(reader.connection, join(original, 'tokens', f), 'packed')).has(doc.id), doc.token_files.includes(`tokens/${f}`), f);
  } finally {
    reader.close();
  }
  const copy = join(work, 'removed-for-check');
  await cp(original, copy, { recursive: true });
  await removeFromRun(copy, { urls: lists.urls });
  const [after] = (await checkContamination(copy, [item])).items;
  assert.deepEqual([after!.found, after!.documents], [0, []]);
});

/** Every document of a tokens folder as `id tokens…`, sorted: what the shards hold, whatever the order. */
async function tokenDocuments(dir: string): Promise<string[]> {
  const manifest = JSON.parse(await readFile(join(dir, 'tokens', '_manifest.json'), 'utf8')) as { shards: { file: string }[]; tokenizer: { bos_id: number } };
  const reader = await openTokenReader();
  const out: string[] = [];
  try {
    for await (const row of groupRows(reader.connection, manifest.shards.map((f) => join(dir, 'tokens', f.file)), 'documents', manifest.tokenizer.bos_id)) out.push(`${row.id} ${row.tokens.join(' ')}`);
  } finally {
    reader.close();
  }
  return out.sort();
}

test('a shuffled run: the documents, their tokens and the manifest\'s counts are a fresh run\'s; the order in the rewritten buckets is the run\'s own', async () => {
  const shuffled = '{stage: tokenize, options: {shuffle_seed: 7, shuffle_buckets: 4}}';
  const base = await run('shuffled', join(work, 'corpus'), shuffled);
  const fresh = await run('shuffled-fresh', join(work, 'corpus-minus'), shuffled);
  const copy = join(work, 'shuffled-removed');
  await cp(base, copy, { recursive: true });
  const r = await removeFromRun(copy, lists);
  assert.ok(r.tokens.groups >= 1 && r.tokens.groups < 4, `${r.tokens.groups} buckets held them`);
  // Documents, ledger and counts: the same bytes.
  const [a, b] = [await files(copy, ['kept', 'rejected', 'errors', 'decontam']), await files(fresh, ['kept', 'rejected', 'errors', 'decontam'])];
  assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort());
  for (const [k, v] of b) assert.ok(a.get(k)!.equals(v), k);
  assert.deepEqual(await counts(copy), await counts(fresh));
  // Tokens: the same documents with the same tokens; the shuffle keys of a fresh run follow positions in the input, which moved.
  assert.deepEqual(await tokenDocuments(copy), await tokenDocuments(fresh));
  const manifest = async (dir: string) => {
    const m = JSON.parse(await readFile(join(dir, 'tokens', '_manifest.json'), 'utf8')) as Record<string, unknown> & { totals: Record<string, number> };
    const { bytes: _b, rows: _r, partial_rows: _p, ...totals } = m.totals;
    return { totals, buckets: m.buckets, by_source: m.by_source, by_language: m.by_language, by_category: m.by_category };
  };
  assert.deepEqual(await manifest(copy), await manifest(fresh));
  // The buckets that held no removed document are the run's files, untouched.
  const before = await files(base, ['tokens']);
  const now = await files(copy, ['tokens']);
  const rewritten = new Set(r.tokens.rewritten.map((f) => f.replace(/-\d+\.parquet$/, '')));
  let untouched = 0;
  for (const [k, v] of before) {
    if (!k.endsWith('.parquet') || rewritten.has(k.slice('tokens/'.length).replace(/-\d+\.parquet$/, ''))) continue;
    assert.ok(now.get(k)!.equals(v), k);
    untouched++;
  }
  assert.ok(untouched > 0);
});

test('every output_format: Dolma documents with their attribute files, datatrove, Parquet kept/ and rejected/ come out as a fresh run writes them', async () => {
  for (const format of ['dolma', 'datatrove', 'parquet']) {
    const pipeline = async (name: string, corpusDir: string) => {
      const f = join(work, `${name}.yaml`);
      await writeFile(f, `inputs: ["${corpusDir}/*.jsonl.gz"]\noutput: ${join(work, name)}\nworkers: 1\nseed: 5\noutput_format: ${format}\nstages: [gopher-quality]\n`);
      await runPipeline(await loadPipelineFile(f), { quiet: true });
      return join(work, name);
    };
    const base = await pipeline(`${format}-original`, join(work, 'corpus'));
    const fresh = await pipeline(`${format}-fresh`, join(work, 'corpus-minus'));
    const r = await removeFromRun(base, lists);
    assert.deepEqual(r.documents, { kept: 4, rejected: 1, errored: 0 }, format);
    const [a, b] = [await files(base, ['kept', 'rejected', 'errors']), await files(fresh, ['kept', 'rejected', 'errors'])];
    assert.deepEqual([...a.keys()].sort(), [...b.keys()].sort(), format);
    if (format === 'dolma') assert.ok([...a.keys()].some((k) => k.startsWith('kept/attributes/')), 'attribute files are compared too');
    for (const [k, v] of b) assert.ok(a.get(k)!.equals(v), `${format}: ${k}`);
    assert.deepEqual(await counts(base), await counts(fresh), format);
  }
});

test('a list that is not what it says is refused with its file and line', async () => {
  const bad = join(work, 'bad-domains.txt');
  await writeFile(bad, 'example.com\nhttps://example.org/\n');
  await assert.rejects(removeFromRun(original, { domains: bad }), (e: Error) => e.message === `${bad}:2: "https://example.org/" is not a host name (example.com, without scheme or path)`);
  await assert.rejects(removeFromRun(original, {}), /give what to remove: --ids FILE, --urls FILE or --domains FILE/);
});
