import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultFilterStages } from '../filters/stages.ts';
import { docStage, fixtureDocs, runChain } from './filters-helpers.ts';

const perDocDefaults = defaultFilterStages.filter((n) => n !== 'token-outlier');

test('a book, a speech and an encyclopedic article pass every default filter', async () => {
  const docs = fixtureDocs('good-prose.jsonl');
  assert.equal(docs.length, 3);
  for (const d of docs) {
    assert.equal(await runChain(d, perDocDefaults), 'kept', d.id);
    assert.equal(d.meta.language, 'en', d.id);
    assert.ok((d.meta.language_score as number) > 0.9, d.id);
    for (const key of ['gopher_quality', 'gopher_repetition', 'c4', 'fineweb', 'dirty_words', 'url_blocklist', 'code_quality']) {
      assert.ok(d.meta[key] !== undefined, `${d.id} has meta.${key}`);
    }
  }
});

test('spam, menu and log pages are each rejected by the rule one would expect', async () => {
  const byId = new Map(fixtureDocs('bad-pages.jsonl').map((d) => [d.id, d]));
  const expect: [string, string, string][] = [
    ['spam-keyword-stuffed', 'gopher-repetition', 'top_2_gram'],
    ['menu-factbook-index', 'fineweb', 'line_punct_ratio'],
    ['log-dpkg', 'gopher-repetition', 'top_3_gram'],
  ];
  for (const [id, stageName, rule] of expect) {
    const d = structuredClone(byId.get(id)!);
    d.meta.language = 'en';
    const [v] = await (await docStage(stageName)).process([d]);
    assert.deepEqual(v!.keep ? 'kept' : v!.rule, rule, id);
    assert.notEqual(await runChain(structuredClone(byId.get(id)!), perDocDefaults), 'kept', `${id} is rejected by the default chain`);
  }
});
