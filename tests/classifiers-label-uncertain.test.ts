/**
 * `classify label --select uncertain`: of a seeded pool, the documents the current model is least
 * sure of, stratified, are the ones sent to the (stand-in) LLM; the same model gives the same
 * selection, and documents already labelled are not asked again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelDocuments } from '../classifiers/label/labeller.ts';
import { leastCertain, certainty } from '../classifiers/label/uncertain.ts';
import { openScorer } from '../classifiers/scorer.ts';
import { trainFromLabels } from '../classifiers/training-run.ts';
import { startFakeLlm } from './classifiers-llm-server.ts';
import type { Doc } from '../pipeline/doc.ts';

const GOOD = ['the method is explained with care', 'every step of the proof follows', 'a clear account of the history', 'the data are described in full'];
const BAD = ['click here buy now', 'cheap deals free offer', 'best price sale sale', 'win money fast today'];

test('least certain: nearest the threshold first, equal shares per stratum, ties in sample order', () => {
  const docs: Doc[] = Array.from({ length: 8 }, (_, i) => ({ id: `d${i}`, text: '', meta: { source: i < 4 ? 'a' : 'b' } }));
  const c = [0.4, 0.01, 0.3, 0.01, 0.2, 0.05, 0.5, 0.02];
  assert.deepEqual(leastCertain(docs, c, 3).map((d) => d.id), ['d1', 'd3', 'd7']);
  assert.deepEqual(leastCertain(docs, c, 4, 'source').map((d) => d.id), ['d1', 'd3', 'd5', 'd7']);
  assert.deepEqual(leastCertain(docs.slice(0, 5), c, 4, 'source').map((d) => d.id), ['d1', 'd2', 'd3', 'd4'], 'a small stratum gives its share to the others');
});

test('label --select uncertain: the documents sent to the LLM are the pool\'s least certain under the current model', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-uncertain-'));
  // A first model from a few labels.
  const seedLabels = Array.from({ length: 40 }, (_, i) => ({ id: `s${i}`, text: `${(i % 2 ? GOOD : BAD)[i % 4]} ${i}`, label: i % 2 }));
  await writeFile(join(dir, 'seed.jsonl'), seedLabels.map((r) => JSON.stringify(r)).join('\n') + '\n');
  await trainFromLabels(join(dir, 'seed.jsonl'), join(dir, 'model'), { buckets: 1024, dim: 8, epochs: 20, lr: 0.5, seed: 1, autotune_seconds: 0 });
  // The pool mixes clear documents with ones that mix both kinds of words (the uncertain ones).
  const docs = Array.from({ length: 60 }, (_, i) => ({
    id: `doc-${i}`,
    text: i % 3 === 0 ? `${GOOD[i % 4]} ${BAD[(i + 1) % 4]} ${i}` : `${(i % 2 ? GOOD : BAD)[i % 4]} ${(i % 2 ? GOOD : BAD)[(i + 2) % 4]} ${i}`,
    source: i % 2 ? 'web' : 'books',
  }));
  await writeFile(join(dir, 'in.jsonl'), docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const server = await startFakeLlm({ answer: (d) => `Answer: ${GOOD.some((g) => d.includes(g)) ? 'yes' : 'no'}` });
  try {
    const options = { endpoint: server.url, model: 'fake', n: 10, seed: 3, select: 'uncertain' as const, select_model: join(dir, 'model'), pool_factor: 6, stratify_by: 'source', concurrency: 2 };
    const summary = await labelDocuments([join(dir, 'in.jsonl')], join(dir, 'labels.jsonl'), options);
    assert.equal(summary.labelled_now, 10);
    const asked = server.requests.map((r) => r.document);

    const scorer = await openScorer(join(dir, 'model'));
    const certainties = await certainty(scorer, docs.map((d) => d.text));
    await scorer.close();
    const askedCertainty = docs.map((d, i) => (asked.includes(d.text) ? certainties[i]! : null)).filter((c): c is number => c !== null);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    assert.ok(mean(askedCertainty) < mean(certainties), `asked ${mean(askedCertainty)} vs pool ${mean(certainties)}`);
    const perSource = (s: string) => docs.filter((d) => d.source === s && asked.includes(d.text)).length;
    assert.deepEqual([perSource('books'), perSource('web')], [5, 5]);
    // Within a stratum, no document left out is less certain than one asked.
    for (const s of ['books', 'web']) {
      const inStratum = docs.map((d, i) => ({ d, c: certainties[i]! })).filter((x) => x.d.source === s);
      const maxAsked = Math.max(...inStratum.filter((x) => asked.includes(x.d.text)).map((x) => x.c));
      assert.ok(inStratum.filter((x) => !asked.includes(x.d.text)).every((x) => x.c >= maxAsked - 1e-6), s);
    }

    const again = await labelDocuments([join(dir, 'in.jsonl')], join(dir, 'labels.jsonl'), options);
    assert.equal(again.labelled_now, 10, 'a second round asks for ten more, none asked twice');
    assert.equal(new Set(server.requests.map((r) => r.document)).size, 20);
    await assert.rejects(labelDocuments([join(dir, 'in.jsonl')], join(dir, 'x.jsonl'), { ...options, select_model: undefined }), /select_model: --select uncertain needs the current model/);
  } finally {
    await server.close();
  }
});
