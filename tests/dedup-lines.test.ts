import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Doc } from '../pipeline/doc.ts';
import { lineDedupStage } from '../dedup/line-dedup.ts';
import { runGlobalStage } from './run-global-stage.ts';
import { ProseGenerator } from './dedup-corpus.ts';

/** `n` pages of generated prose; page i carries the boilerplate lines listed for it. */
function pages(n: number, boilerplate: (i: number) => string[]): Doc[] {
  const gen = new ProseGenerator(5);
  return Array.from({ length: n }, (_, i) => ({ id: `p${i}`, text: [gen.document(40), ...boilerplate(i), gen.document(30)].join('\n'), meta: {} }));
}

test('a line in more than 6 documents of a bucket is removed from all of them; one in 6 stays', async () => {
  const docs = pages(20, (i) => [...(i < 7 ? ['Copyright 2021 Example Corp. All rights reserved.'] : []), ...(i >= 10 && i < 16 ? ['Share this page on social media'] : [])]);
  const shards = [docs.slice(0, 8), docs.slice(8)];
  const run = await runGlobalStage(lineDedupStage, { partitions: 3 }, shards);
  assert.ok(run.verdicts.flat().every((v) => v.keep));
  const out = run.docs.flat();
  for (const [i, d] of out.entries()) {
    assert.ok(!d.text.includes('Copyright'), `page ${i} keeps the copyright line`);
    if (i >= 10 && i < 16) assert.ok(d.text.includes('Share this page'));
  }
  assert.deepEqual(out[3].meta.line_dedup_removed, ['Copyright 2021 Example Corp. All rights reserved.']);
  assert.equal(out[12].meta.line_dedup_removed, undefined);
  const stats = JSON.parse(await readFile(join(run.output, 'stats', 'line-dedup.json'), 'utf8'));
  assert.equal(stats.duplicated_lines, 1);
  assert.equal(stats.removed_line_occurrences, 7);
  assert.equal(stats.removed_bytes, 7 * (Buffer.byteLength('Copyright 2021 Example Corp. All rights reserved.') + 1));
});

test('lines are normalised before counting: case, digits and punctuation do not hide a repeat', async () => {
  const docs = pages(8, (i) => [`Copyright ${2010 + i} example corp, all rights reserved`]);
  const { docs: out } = await runGlobalStage(lineDedupStage, {}, [docs]);
  assert.ok(out.flat().every((d) => !d.text.includes('Copyright')));
});

test('counts are per bucket of documents in input order', async () => {
  // 14 pages share a line; with buckets of 7 pages, each bucket holds 7 (> 6) copies: removed.
  // With buckets of 5 (5, 5, 4 copies), no bucket holds more than 6: kept.
  for (const [bucket, removed] of [[7, true], [5, false]] as const) {
    const docs = pages(14, () => ['Subscribe to our newsletter']);
    const { docs: out } = await runGlobalStage(lineDedupStage, { bucket_size: bucket, partitions: 2 }, [docs.slice(0, 6), docs.slice(6)]);
    assert.equal(out.flat().every((d) => !d.text.includes('Subscribe')), removed, `bucket_size ${bucket}`);
  }
});

test('short lines are exempt with min_line_chars, and a document made only of removed lines is dropped', async () => {
  const docs: Doc[] = Array.from({ length: 8 }, (_, i) => ({ id: `d${i}`, text: i === 0 ? 'Home\nMenu' : `Home\nMenu\nUnique text number ${'abcdefgh'[i]}.`, meta: {} }));
  const { verdicts, docs: out } = await runGlobalStage(lineDedupStage, {}, [docs]);
  assert.equal(verdicts[0][0].keep, false);
  assert.equal(out[0][1].text, 'Unique text number b.');
  const again: Doc[] = Array.from({ length: 8 }, (_, i) => ({ id: `d${i}`, text: `Home\nSome longer repeated navigation line\nText ${'abcdefgh'[i]}`, meta: {} }));
  const { docs: outAgain } = await runGlobalStage(lineDedupStage, { min_line_chars: 10 }, [again]);
  assert.ok(outAgain[0].every((d) => d.text.startsWith('Home\n') && !d.text.includes('navigation')));
});

/** A small C file; every one carries the same licence comment and the same syntax lines. */
function cFile(i: number): string {
  return [
    '// Copyright 2021 Example Corp. All rights reserved.',
    '#ifndef UTIL_H',
    `static int sum_${i}(int n) {`,
    '  int total = 0;',
    '  for (int k = 0; k < n; k++) {',
    `    if (k % ${i + 2} == 0) {`,
    '      continue;',
    '    } else {',
    `      total += k * ${i + 3};`,
    '    }',
    '  }',
    '  return total;',
    '}',
    '#endif',
  ].join('\n');
}

test('source code is neither counted nor edited: its repeated syntax lines stay, and it does not make prose lines repeats', async () => {
  const code: Doc[] = Array.from({ length: 8 }, (_, i) => ({ id: `c${i}`, text: cFile(i), meta: {} }));
  const originals = code.map((d) => d.text);
  // Three prose pages share the licence line with the 8 code files: 3 counted copies, so it stays.
  const prose = pages(3, () => ['Copyright 2021 Example Corp. All rights reserved.']);
  const run = await runGlobalStage(lineDedupStage, { partitions: 2 }, [code.slice(0, 5), [...prose, ...code.slice(5)]]);
  assert.ok(run.verdicts.flat().every((v) => v.keep));
  const [first, second] = run.docs;
  const codeOut = [...first, ...second.slice(3)];
  assert.deepEqual(codeOut.map((d) => d.id), code.map((d) => d.id));
  codeOut.forEach((d, i) => {
    assert.equal(d.text, originals[i], `code file ${i} was edited`);
    assert.deepEqual(d.meta.line_dedup, { skipped: 'code' });
    assert.equal(d.meta.line_dedup_removed, undefined);
  });
  for (const d of second.slice(0, 3)) {
    assert.ok(d.text.includes('Copyright 2021'));
    assert.equal(d.meta.line_dedup, undefined);
  }
  const stats = JSON.parse(await readFile(join(run.output, 'stats', 'line-dedup.json'), 'utf8'));
  assert.equal(stats.docs_in, 11);
  assert.equal(stats.skipped_code_docs, 8);
  assert.equal(stats.duplicated_lines, 0);
});
