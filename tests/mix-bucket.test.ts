import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bucketId, bucketKeyOfDoc, isNonEnglish } from '../mixes/bucket.ts';
import type { Doc } from '../pipeline/doc.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';

test('non-English means a human language other than English; code and unknown are neither', () => {
  for (const l of ['fr', 'de', 'zh', 'zho_Hans', 'pt-BR', 'cs', 'rus']) assert.equal(isNonEnglish(l), true, l);
  for (const l of ['en', 'en-US', 'eng', 'eng_Latn', 'unknown', 'python', 'c++', 'go', 'sql', 'r']) assert.equal(isNonEnglish(l), false, l);
  assert.equal(isNonEnglish('fr', 'code'), false, 'code with a French comment language is still code');
});

test('bucket keys come from meta, missing values are "unknown", and ids are unambiguous', () => {
  const key = bucketKeyOfDoc({ id: '1', text: '', meta: { source: 'a/b', language: 'en', quality_band: 2 } });
  assert.deepEqual(key, { source: 'a/b', category: 'unknown', language: 'en', quality_band: '2' });
  assert.equal(bucketId(key), 'a%2Fb/unknown/en/2');
});

test('the mix-buckets stage sets category by the first matching rule and quality band by thresholds', async () => {
  const { mixBucketsStage } = await import('../mixes/bucket-stage.ts');
  const options = mixBucketsStage.options.parse({
    category_rules: [
      { source: ['arxiv'], category: 'math' },
      { code: true, category: 'code' },
      { non_english: true, category: 'multilingual' },
      { url: '^https://[^/]*wikipedia\\.org/', category: 'encyclopedic' },
    ],
    quality_bands: { field: 'quality_score', bands: [{ band: 'medium', min: 0.5 }, { band: 'high', min: 0.8 }] },
  });
  const stage = await mixBucketsStage.create(options, { baseDir: '.', outputDir: '.', workDir: '.', seed: 0, keyPath: 'stages[0]', files: folderFiles });
  assert.ok(stage.kind === 'annotator');
  const docs: Doc[] = [
    { id: 'a', text: 'x', meta: { source: 'arxiv', language: 'en', quality_score: 0.9 } },
    { id: 'b', text: 'x', meta: { source: 'gh', language: 'python', quality_score: 0.6 } },
    { id: 'c', text: 'Bonjour à tous.', meta: { source: 'web', language: 'fr', quality_score: 0.1 } },
    { id: 'd', text: 'An article.', meta: { source: 'web', language: 'en', url: 'https://en.wikipedia.org/wiki/X' } },
    { id: 'e', text: 'A page.', meta: { source: 'web', language: 'en', category: 'science', quality_score: 0.8 } },
  ];
  const verdicts = await stage.process(docs);
  assert.ok(verdicts.every((v) => v.keep));
  assert.deepEqual(docs.map((d) => [d.meta.category, d.meta.quality_band]), [
    ['math', 'high'],
    ['code', 'medium'],
    ['multilingual', 'low'],
    ['encyclopedic', 'unknown'],
    ['science', 'high'],
  ]);
  assert.equal(mixBucketsStage.options.safeParse({ category_rules: [{ category: 'x', url: '(' }] }).success, false);
});
