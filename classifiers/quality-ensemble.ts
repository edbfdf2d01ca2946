/**
 * The `quality-ensemble` stage: several classifiers' scores (each written to `meta` by a `quality`
 * stage) combined as Nemotron-CC combines its three (Su et al. 2024, §2.2): each model's score
 * becomes its percentile bin on this corpus (0 … bins−1), the document's ensemble score is the
 * maximum bin over the models, and that score falls in a quality band, which the mix buckets use
 * (`meta.quality_band`). A global stage:
 *   map     per shard: each model's score histogram, and a seeded sample of documents' scores;
 *   reduce  once: each model's bin cut points (`_work/.../cuts.json`) and the models' agreement on
 *           the sample (stats/quality-ensemble.json);
 *   apply   per shard: `meta.<ensemble_field>` (the maximum bin), `meta.<ensemble_field>_bins`
 *           (each model's bin) and `meta.<band_field>`. A document no model scored gets none.
 * It never drops: select on the band (or on the ensemble score) afterwards.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineStage, KEEP, type DocStage, type GlobalStage, type ShardRef, type StageContext } from '../pipeline/stage.ts';
import type { Doc } from '../pipeline/doc.ts';
import { stableJson, writeFileAtomic } from '../pipeline/io/atomic.ts';
import { fnv1aUnitHash } from '../pipeline/hash.ts';
import { needAll, readRunText } from '../pipeline/run-folder/files.ts';
import { ConfigError } from '../pipeline/errors.ts';
import { addHistogram, binOf, histogramPairs, percentileCuts, type ScoreHistogram } from './ensemble/percentile-bins.ts';
import { agreement } from './ensemble/agreement.ts';
import { bandOf } from './bands.ts';
import { at } from '../pipeline/checked-index.ts';

export const qualityEnsembleOptions = z
  .object({
    fields: z.array(z.string().min(1)).min(1).describe('meta keys of the models\' numeric scores, one per model (the `field` of each quality stage).'),
    bins: z.number().int().min(2).max(1000).default(20).describe('Percentile bins per model; Nemotron-CC: 20 (scores 0–19).'),
    ensemble_field: z.string().min(1).default('quality_ensemble').describe('meta key of the ensemble score (the maximum bin); its _bins holds each model\'s bin.'),
    band_field: z.string().min(1).default('quality_band').describe('meta key of the band, which the mix buckets read.'),
    band_cuts: z.array(z.number()).optional().describe('Ascending ensemble scores at which each band above the lowest starts; default: the bins cut in equal fifths (ours).'),
    band_names: z.array(z.string().min(1)).default(['low', 'medium_low', 'medium', 'medium_high', 'high']).describe('Band names, one more than the cuts; Nemotron-CC used five quality levels.'),
    sample_docs: z.number().int().min(10).default(20_000).describe('Documents (a seeded sample) on which the models\' agreement is measured.'),
  })
  .strict();
export type QualityEnsembleOptions = z.infer<typeof qualityEnsembleOptions>;

interface MapFile {
  docs: number;
  histograms: Record<string, [number, number][]>;
  /** [seeded hash, id, score per field (null: unscored)], the shard's bottom-k by hash. */
  sample: [number, string, (number | null)[]][];
}

interface CutsFile {
  fields: string[];
  cuts: Record<string, (number | null)[]>;
}

function scoreOf(doc: Doc, field: string): number | null {
  const v = doc.meta[field];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

function bottomK(items: [number, string, (number | null)[]][], k: number): [number, string, (number | null)[]][] {
  return items.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)).slice(0, k);
}

/** Equal fifths of 0 … bins−1 (for 20 bins: 4, 8, 12, 16), or as many parts as there are names. */
function defaultBandCuts(bins: number, bands: number): number[] {
  return Array.from({ length: bands - 1 }, (_, i) => Math.round(((i + 1) * bins) / bands));
}

export function createQualityEnsemble(o: QualityEnsembleOptions, ctx: StageContext): GlobalStage {
  const where = `${ctx.keyPath}.options`;
  if (new Set(o.fields).size !== o.fields.length) throw new ConfigError('pipeline', `${where}.fields`, 'a field is named twice');
  const bandCuts = o.band_cuts ?? defaultBandCuts(o.bins, o.band_names.length);
  if (bandCuts.some((c, i) => i > 0 && c < at(bandCuts, i - 1))) throw new ConfigError('pipeline', `${where}.band_cuts`, 'cut points must be ascending');
  if (o.band_names.length !== bandCuts.length + 1) {
    throw new ConfigError('pipeline', `${where}.band_names`, `${bandCuts.length} cut points need ${bandCuts.length + 1} band names, got ${o.band_names.length}`);
  }
  const mapFile = (i: number) => join(ctx.workDir, 'map', `shard-${String(i).padStart(5, '0')}.json`);
  const cutsFile = join(ctx.workDir, 'cuts.json');

  return {
    kind: 'global',
    name: 'quality-ensemble',
    partitions: 1,

    async map(shard: ShardRef, docs: AsyncIterable<Doc>): Promise<void> {
      const histograms = o.fields.map((): ScoreHistogram => new Map());
      let sample: MapFile['sample'] = [];
      let count = 0;
      for await (const doc of docs) {
        count++;
        const scores = o.fields.map((f) => scoreOf(doc, f));
        scores.forEach((s, m) => {
          if (s === null) return;
          const h = at(histograms, m);
          h.set(s, (h.get(s) ?? 0) + 1);
        });
        if (scores.filter((s) => s !== null).length >= 2) {
          sample.push([fnv1aUnitHash(doc.id, ctx.seed), doc.id, scores]);
          if (sample.length >= 2 * o.sample_docs) sample = bottomK(sample, o.sample_docs);
        }
      }
      const out: MapFile = { docs: count, histograms: Object.fromEntries(o.fields.map((f, m) => [f, histogramPairs(at(histograms, m))])), sample: bottomK(sample, o.sample_docs) };
      await writeFileAtomic(mapFile(shard.index), JSON.stringify(out));
    },

    async reduce(_partition: number, shardCount: number): Promise<void> {
      const histograms = o.fields.map((): ScoreHistogram => new Map());
      let sample: MapFile['sample'] = [];
      let docs = 0;
      await needAll(ctx.files, Array.from({ length: shardCount }, (_, i) => mapFile(i)));
      for (let i = 0; i < shardCount; i++) {
        const data = JSON.parse(await readRunText(ctx.files, mapFile(i))) as MapFile;
        docs += data.docs;
        o.fields.forEach((f, m) => addHistogram(at(histograms, m), data.histograms[f] ?? []));
        sample = bottomK([...sample, ...data.sample], o.sample_docs);
      }
      const cuts = Object.fromEntries(o.fields.map((f, m) => [f, at(histograms, m).size > 0 ? percentileCuts(at(histograms, m), o.bins) : []]));
      const cutsOut: CutsFile = { fields: o.fields, cuts };
      await writeFileAtomic(cutsFile, stableJson(cutsOut));
      const sampleBins = sample.map(([, , scores]) => scores.map((s, m) => (s === null ? null : binOf(s, cuts[at(o.fields, m)] ?? []))));
      const agreed = agreement(o.fields, sample.map(([, , s]) => s), sampleBins);
      const scored = o.fields.map((f, m) => [f, [...at(histograms, m).values()].reduce((a, b) => a + b, 0)]);
      await mkdir(join(ctx.outputDir, 'stats'), { recursive: true });
      await writeFileAtomic(
        join(ctx.outputDir, 'stats', 'quality-ensemble.json'),
        stableJson({
          docs,
          bins: o.bins,
          band_cuts: bandCuts,
          band_names: o.band_names,
          scored: Object.fromEntries(scored),
          cuts,
          agreement: { sample_docs: sample.length, pairs: agreed.pairs, models: agreed.models },
        }),
      );
    },

    async applier(_shard: ShardRef): Promise<DocStage> {
      const { cuts } = JSON.parse(await readRunText(ctx.files, cutsFile)) as CutsFile;
      const annotate = (doc: Doc): void => {
        const bins: Record<string, number> = {};
        let best = -1;
        for (const f of o.fields) {
          const s = scoreOf(doc, f);
          if (s === null) continue;
          bins[f] = binOf(s, cuts[f] ?? []);
          best = Math.max(best, bins[f]);
        }
        if (best < 0) return;
        doc.meta[o.ensemble_field] = best;
        doc.meta[`${o.ensemble_field}_bins`] = bins;
        doc.meta[o.band_field] = bandOf(best, bandCuts, o.band_names);
      };
      return {
        kind: 'annotator',
        name: 'quality-ensemble',
        process: (docs) =>
          docs.map((doc) => {
            annotate(doc);
            return KEEP;
          }),
      };
    },
  };
}

export const qualityEnsembleStage = defineStage<QualityEnsembleOptions>({
  name: 'quality-ensemble',
  kind: 'global',
  description: 'Nemotron-CC ensemble: each classifier score → percentile bin on the corpus, the maximum across models → meta.quality_band; agreement in stats/',
  options: qualityEnsembleOptions,
  create: createQualityEnsemble,
});

/** This module's stages, for the registry. */
export const stages = [qualityEnsembleStage];
