/**
 * Line dedup's apply tasks are bounded by configuration: an applier reads the shards' offsets from
 * one file written by the reduce and only the regions of its own buckets, not every shard's count
 * file nor every bucket's duplicated lines.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Doc } from '../pipeline/doc.ts';
import type { GlobalStage } from '../pipeline/stage.ts';
import { lineDedupStage } from '../dedup/line-dedup.ts';
import { readRegion } from '../dedup/region-file.ts';
import { workFiles } from '../dedup/work-files.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';

async function* iterate(docs: Doc[]): AsyncGenerator<Doc> {
  yield* docs;
}

test('an applier needs neither the shards\' count files nor other buckets\' lines; duplicates are stored per bucket', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dedup-lines-bounded-'));
  const ctx = { baseDir: dir, outputDir: join(dir, 'out'), workDir: join(dir, 'work'), seed: 1, keyPath: 'stages[0]', files: folderFiles };
  const options = lineDedupStage.options.parse({ bucket_size: 10, partitions: 2 });
  const fresh = async () => (await lineDedupStage.create(options, ctx)) as GlobalStage;
  // 4 shards of 5 documents: buckets of 10 are shards {0, 1} and {2, 3}. Bucket 0 repeats line A
  // in 8 documents, bucket 1 repeats line B in 8.
  const shards: Doc[][] = Array.from({ length: 4 }, (_, s) =>
    Array.from({ length: 5 }, (_, i) => ({ id: `s${s}-${i}`, text: `${s < 2 ? 'Line A repeated in bucket zero' : 'Line B repeated in bucket one'}\nUnique ${'wxyz'[s]}${'abcde'[i]} text here.`, meta: {} })),
  );
  for (const [s, docs] of shards.entries()) await (await fresh()).map({ index: s, count: 4 }, iterate(docs));
  for (let p = 0; p < 2; p++) await (await fresh()).reduce(p, 4);
  await (await fresh()).finish!(4);
  // Per-bucket regions: every duplicated line hash of the run sits in the region of its bucket.
  const pairs = async (bucket: number) => {
    let words = 0;
    for (let p = 0; p < 2; p++) words += (await readRegion(folderFiles, workFiles.duplicateLines(ctx.workDir, p), 2, bucket)).byteLength / 4;
    return words / 2;
  };
  assert.deepEqual([await pairs(0), await pairs(1)], [1, 1]);
  for (let s = 0; s < 4; s++) await rm(workFiles.docCount(ctx.workDir, s));
  for (const s of [1, 3]) {
    const applier = await (await fresh()).applier({ index: s, count: 4 });
    const docs = shards[s]!.map((d) => ({ ...d, meta: {} }));
    await applier.process(docs);
    assert.ok(docs.every((d) => !d.text.includes('repeated')), `shard ${s}: its bucket's repeated line removed`);
  }
  await rm(dir, { recursive: true, force: true });
});
