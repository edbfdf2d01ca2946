/**
 * CPU seconds of token-outlier's map, reduce and apply (each input file one shard, documents read
 * into memory first, so reading and writing are not counted):
 *
 *   node --import tsx bench/token-outlier-phases.ts <folder of .jsonl / .jsonl.gz files> [min_sample_docs]
 *
 * Give it documents tagged by langid (the `kept/` of a `langid`-only run) for one reference per
 * language. Not part of `npm run bench`: it needs an input folder.
 */
import { readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Doc } from '../pipeline/doc.ts';
import { readDocs } from '../pipeline/io/read.ts';
import { createTokenOutlier, tokenOutlierOptions } from '../filters/token-outlier.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';

const [folder, minSample = '50'] = process.argv.slice(2);
if (folder === undefined) throw new Error('usage: bench/token-outlier-phases.ts <folder of .jsonl(.gz) files> [min_sample_docs]');

const shards: Doc[][] = [];
for (const f of readdirSync(folder).filter((f) => /\.jsonl(\.gz)?$/.test(f)).sort()) {
  const docs: Doc[] = [];
  for await (const it of readDocs(join(folder, f))) if (it.kind === 'doc') docs.push(it.doc);
  shards.push(docs);
}
// Separate copies for map and apply: the word split is cached per Doc object.
const mapDocs = shards.map((s) => s.map((d) => structuredClone(d)));
const applyDocs = shards.map((s) => s.map((d) => structuredClone(d)));

const dir = await mkdtemp(join(tmpdir(), 'refinery-token-outlier-'));
const stage = createTokenOutlier(tokenOutlierOptions.parse({ min_sample_docs: Number(minSample) }), {
  baseDir: dir,
  outputDir: join(dir, 'out'),
  workDir: join(dir, 'work'),
  seed: 42,
  keyPath: 'stages[0]',
  files: folderFiles,
});
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
async function* iterate(docs: Doc[]): AsyncIterable<Doc> {
  yield* docs;
}

let t = cpu();
for (const [i, docs] of mapDocs.entries()) await stage.map({ index: i, count: shards.length }, iterate(docs));
const map = cpu() - t;
t = cpu();
await stage.reduce(0, shards.length);
const reduce = cpu() - t;
t = cpu();
let dropped = 0;
for (const [i, docs] of applyDocs.entries()) {
  const applier = await stage.applier({ index: i, count: shards.length });
  for (let j = 0; j < docs.length; j += 64) for (const v of await applier.process(docs.slice(j, j + 64))) if (!v.keep) dropped++;
  await applier.close?.();
}
const apply = cpu() - t;
await rm(dir, { recursive: true, force: true });
const s = (x: number) => Number(x.toFixed(3));
console.log(JSON.stringify({ docs: shards.reduce((n, d) => n + d.length, 0), dropped, map: s(map), reduce: s(reduce), apply: s(apply), total: s(map + reduce + apply) }));
