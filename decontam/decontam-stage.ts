/**
 * `decontam`: a filter that drops (or, with `mode: annotate`, marks) the documents sharing
 * n-grams with the items of benchmark files given before the run. The n-grams are GPT-3's (Brown
 * et al. 2020, appendix C: 13 words, without case or punctuation); GPT-3 cut the matching text out
 * and dropped only documents cut into many pieces, this drops the document, as datatrove's
 * decontamination filter does. The benchmarks' n-grams are held in memory (small); each
 * document's are looked up. `meta.decontam = {items, shared}`: the benchmark items it overlaps
 * (`file:id`) and the n-grams it shares with them. For a benchmark released after the run, use
 * the ledger (`decontam-index`, `decontam/check.ts`) instead.
 */
import { resolve } from 'node:path';
import { z } from 'zod';
import { defineStage, drop, KEEP, perDocStage, type Verdict } from '../pipeline/stage.ts';
import type { Doc } from '../pipeline/doc.ts';
import { readBenchmark } from './benchmark-items.ts';
import { DEFAULT_N, ngramHashes } from './ngrams.ts';

/** Defaults: n = 13 as GPT-3 (Brown et al. 2020, appendix C); any shared n-gram counts (*ours*). */
export const decontamOptions = z
  .object({
    benchmarks: z.array(z.string()).min(1).describe('Benchmark files (JSONL), relative to the pipeline file.'),
    fields: z.array(z.string()).optional().describe('Fields whose text is a benchmark item (default: every string field but id).'),
    n: z.number().int().min(4).max(50).default(DEFAULT_N).describe('Words per n-gram (GPT-3: 13).'),
    min_shared: z.number().int().positive().default(1).describe('Drop a document sharing at least this many n-grams with one benchmark item.'),
  })
  .strict();
export type DecontamOptions = z.infer<typeof decontamOptions>;

/** n-gram (hi:lo) → the benchmark items holding it (`file:id`). */
async function benchmarkNgrams(files: readonly string[], baseDir: string, o: DecontamOptions): Promise<Map<string, string[]>> {
  const index = new Map<string, string[]>();
  for (const file of files) {
    for (const item of await readBenchmark(resolve(baseDir, file), o.fields)) {
      const h = ngramHashes(item.text, o.n);
      for (let i = 0; i < h.length; i += 2) {
        const key = `${h[i]}:${h[i + 1]}`;
        const items = index.get(key);
        if (items === undefined) index.set(key, [`${file}:${item.id}`]);
        else items.push(`${file}:${item.id}`);
      }
    }
  }
  return index;
}

export function decontamVerdict(doc: Doc, index: ReadonlyMap<string, readonly string[]>, o: DecontamOptions): Verdict {
  const h = ngramHashes(doc.text, o.n);
  const sharedByItem = new Map<string, number>();
  for (let i = 0; i < h.length; i += 2) {
    for (const item of index.get(`${h[i]}:${h[i + 1]}`) ?? []) sharedByItem.set(item, (sharedByItem.get(item) ?? 0) + 1);
  }
  const items = [...sharedByItem].filter(([, n]) => n >= o.min_shared).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  doc.meta.decontam = { items: items.map(([id]) => id), shared: items.reduce((s, [, n]) => s + n, 0) };
  return items.length > 0 ? drop('benchmark_overlap', `${items[0]![0]}: ${items[0]![1]} shared ${o.n}-grams`) : KEEP;
}

export const decontamStage = defineStage<DecontamOptions>({
  name: 'decontam',
  kind: 'filter',
  description: 'Drop documents sharing n-grams (13 by default) with the items of given benchmark files',
  options: decontamOptions,
  create: async (o, ctx) => {
    const index = await benchmarkNgrams(o.benchmarks, ctx.baseDir, o);
    return perDocStage('filter', 'decontam', (doc) => decontamVerdict(doc, index, o));
  },
});

/** This module's stages (for a pipeline's `plugins:` until the stage is registered with the built-in ones). */
export const stages = [decontamStage];
