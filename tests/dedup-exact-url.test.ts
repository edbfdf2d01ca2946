import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Doc } from '../pipeline/doc.ts';
import { exactDedupStage } from '../dedup/exact-dedup.ts';
import { urlDedupStage } from '../dedup/url-dedup.ts';
import { normalizeUrl } from '../dedup/url-normalize.ts';
import { runGlobalStage } from './run-global-stage.ts';

const doc = (id: string, text: string, meta: Record<string, unknown> = {}): Doc => ({ id, text, meta });

test('exact dedup keeps the first copy across shards and marks the others with duplicate_of', async () => {
  const shards = [
    [doc('a', 'The cat sat on the mat.'), doc('b', 'Something else entirely.')],
    [doc('c', 'the  CAT sat on the mat'), doc('d', 'A third text.'), doc('e', 'The cat sat on the mat!')],
  ];
  const { verdicts, docs, output } = await runGlobalStage(exactDedupStage, { partitions: 3 }, shards);
  assert.deepEqual(verdicts.map((s) => s.map((v) => v.keep)), [[true, true], [false, true, false]]);
  assert.equal(docs[1][0].meta.duplicate_of, 'a');
  assert.equal(docs[1][2].meta.duplicate_of, 'a');
  assert.equal(docs[1][0].meta.dedup_cluster, docs[0][0].meta.dedup_cluster);
  assert.equal(docs[0][1].meta.dedup_cluster, undefined);
  const stats = JSON.parse(await readFile(join(output, 'stats', 'exact-dedup.json'), 'utf8'));
  assert.equal(stats.docs_in, 5);
  assert.equal(stats.clusters, 1);
  assert.equal(stats.removed_docs, 2);
  assert.equal(stats.removed_bytes, Buffer.byteLength('the  CAT sat on the mat') + Buffer.byteLength('The cat sat on the mat!'));
  assert.deepEqual(stats.cluster_size_histogram, { '3': 1 });
});

test('exact dedup without normalisation treats case and punctuation as different', async () => {
  const none = { lowercase: false, remove_diacritics: false, norm_numbers: false, remove_punctuation: false, norm_whitespace: false };
  const shards = [[doc('a', 'Hello world.'), doc('b', 'hello world'), doc('c', 'Hello world.')]];
  const { verdicts } = await runGlobalStage(exactDedupStage, { normalization: none }, shards);
  assert.deepEqual(verdicts[0].map((v) => v.keep), [true, true, false]);
});

test('a rerun writes byte-identical kept and rejected documents and stage statistics', async () => {
  const shards = [[doc('a', 'x y z'), doc('b', 'x y z')], [doc('c', 'x y z'), doc('d', 'q')]];
  // The work files of the phases are dropped when a run finishes; what they decide is in these.
  const snapshot = async (output: string): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    for (const sub of ['kept', 'rejected']) for (const f of (await readdir(join(output, sub))).sort()) out.set(`${sub}/${f}`, await readFile(join(output, sub, f), 'latin1'));
    out.set('stats', await readFile(join(output, 'stats', 'exact-dedup.json'), 'utf8'));
    return out;
  };
  const first = await snapshot((await runGlobalStage(exactDedupStage, {}, shards)).output);
  assert.deepEqual([...first.keys()], ['kept/shard-00000.jsonl.gz', 'kept/shard-00001.jsonl.gz', 'rejected/shard-00000.p1.jsonl.gz', 'rejected/shard-00001.p1.jsonl.gz', 'stats']);
  assert.deepEqual(await snapshot((await runGlobalStage(exactDedupStage, {}, shards)).output), first);
});

test('URL normalisation merges scheme, www, fragments, default ports, slashes and tracking parameters', () => {
  const a = normalizeUrl('https://www.Example.com:443/a/b/?utm_source=x&z=1&a=2#top', { keepQuery: true });
  const b = normalizeUrl('http://example.com/a/b?a=2&z=1', { keepQuery: true });
  assert.equal(a, b);
  assert.notEqual(normalizeUrl('http://example.com/a?id=1', { keepQuery: true }), normalizeUrl('http://example.com/a?id=2', { keepQuery: true }));
  assert.equal(normalizeUrl('http://example.com/a?id=1', { keepQuery: false }), normalizeUrl('http://example.com/a?id=2', { keepQuery: false }));
  assert.equal(normalizeUrl('not a url', { keepQuery: true }), null);
});

test('URL dedup keeps the most recent crawl of a URL and passes documents without one', async () => {
  const shards = [
    [doc('old', 'v1', { url: 'http://example.com/page', date: '2019-07-01T00:00:00Z' }), doc('nourl', 'n')],
    [doc('new', 'v3', { url: 'https://www.example.com/page/', date: '2024-05-20T10:00:00Z' }), doc('mid', 'v2', { url: 'http://example.com/page#x', date: 1600000000 })],
    [doc('undated', 'v0', { url: 'http://example.com/page' }), doc('other', 'o', { url: 'http://example.com/other' })],
  ];
  const { verdicts, docs } = await runGlobalStage(urlDedupStage, { partitions: 2 }, shards);
  assert.deepEqual(verdicts.map((s) => s.map((v) => v.keep)), [[false, true], [true, false], [false, true]]);
  for (const d of [docs[0][0], docs[1][1], docs[2][0]]) assert.equal(d.meta.duplicate_of, 'new');
  const v = verdicts[0][0];
  assert.equal(v.keep === false && v.rule, 'url');
});

test('at 50,000 documents over 5 shards and 64 partitions, exactly the first copy of every text is kept', async () => {
  let state = 7;
  const next = (): number => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) % 15000;
  const words = ['alpha', 'beta', 'gamma', 'delta', 'omega'];
  const textOf = (k: number): string => `${words[k % 5]} ${words[Math.floor(k / 5) % 5]} ${k.toString(36)}`;
  const shards = Array.from({ length: 5 }, (_, s) => Array.from({ length: 10000 }, (_, i) => doc(`${s}-${i}`, textOf(next()))));
  const none = { lowercase: false, remove_diacritics: false, norm_numbers: false, remove_punctuation: false, norm_whitespace: false };
  const { verdicts, docs, output } = await runGlobalStage(exactDedupStage, { partitions: 64, normalization: none }, shards);
  const first = new Map<string, string>();
  let wrong = 0;
  shards.forEach((shard, s) => shard.forEach((d, i) => {
    const kept = first.get(d.text);
    if (kept === undefined) {
      first.set(d.text, d.id);
      if (!verdicts[s][i].keep) wrong++;
    } else if (verdicts[s][i].keep || docs[s][i].meta.duplicate_of !== kept) wrong++;
  }));
  assert.equal(wrong, 0);
  const stats = JSON.parse(await readFile(join(output, 'stats', 'exact-dedup.json'), 'utf8'));
  assert.equal(stats.removed_docs, 50000 - first.size);
});
