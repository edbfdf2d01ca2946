/**
 * Token-distribution outlier filter (Llama 3 §3.1.1), a global stage:
 *   map     per shard: count words per language (meta.language) over a seeded sample of the
 *           corpus, and keep the bag of words of a bottom-k sample of documents;
 *   reduce  once: build each language's reference distribution, score the sampled documents and
 *           take the `quantile` of their KL divergences as that language's threshold;
 *   apply   per shard: KL(doc ‖ reference) into `meta.token_outlier`, drop above the threshold.
 * A reference per language, so that a language in the minority is not an "outlier" of the
 * majority's distribution. Languages with fewer than `min_sample_docs` scored documents get
 * annotations but no threshold (no drops). Code and documents under `min_words` are not scored.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineStage, drop, KEEP, type DocStage, type GlobalStage, type ShardRef, type StageContext, type Verdict } from '../pipeline/stage.ts';
import type { Doc } from '../pipeline/doc.ts';
import { stableJson, writeFileAtomic } from '../pipeline/io/atomic.ts';
import { wordsOf } from './text/doc-text.ts';
import { fnv1aUnitHash } from '../pipeline/hash.ts';
import { isCode } from './code-detection.ts';
import { skipCode } from './skip-code.ts';
import { buildReference, countWords, klDivergence, mergeCounts, quantile, topWords, type Reference, type WordCounts } from './token-outlier/distribution.ts';
import { round4 } from './meta-number.ts';

export const tokenOutlierOptions = z
  .object({
    quantile: z.number().gt(0).lt(1).default(0.995).describe("Drop documents above this quantile of KL divergence. 0.995: the issue's default (99.5th percentile)."),
    sample_rate: z.number().gt(0).max(1).default(1).describe('Fraction of documents whose words build the reference (seeded, by document id).'),
    quantile_sample_docs: z.number().int().positive().default(5000).describe('Documents per language whose KL divergences estimate the quantile (bottom-k by seeded hash).'),
    min_sample_docs: z.number().int().positive().default(1000).describe('Below this many scored sample documents a language gets no threshold.'),
    vocab_size: z.number().int().positive().default(50_000).describe('Words of the reference vocabulary per language; the rest share one bucket.'),
    min_words: z.number().int().nonnegative().default(50).describe('Documents with fewer words are not scored (their KL is dominated by their length).'),
  })
  .strict();
export type TokenOutlierOptions = z.infer<typeof tokenOutlierOptions>;

interface ShardLanguageData {
  docs: number;
  counts: [string, number][];
  sample: [number, string, [string, number][]][];
}
interface LanguageReference {
  vocab: [string, number][];
  oov: number;
  threshold: number | null;
  sample_docs: number;
}

function languageOf(doc: Doc): string {
  return typeof doc.meta.language === 'string' ? doc.meta.language : 'und';
}

/** Keep the k smallest-hash entries (deterministic whatever the order of arrival). */
function bottomK<T extends [number, string, ...unknown[]]>(items: T[], k: number): T[] {
  return items.sort((a, b) => a[0] - b[0] || (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)).slice(0, k);
}

type References = Map<string, { ref: Reference; threshold: number | null }>;

/**
 * The references of a run, parsed once per process (by path, size and modification time) rather
 * than once per shard's applier: a worker thread applies one shard after another.
 */
const loaded = new Map<string, { stamp: string; references: Promise<References> }>();

async function loadReferences(path: string): Promise<References> {
  const s = await stat(path);
  const stamp = `${s.size}:${s.mtimeMs}`;
  const hit = loaded.get(path);
  if (hit !== undefined && hit.stamp === stamp) return hit.references;
  const references = parseReferences(path);
  loaded.set(path, { stamp, references });
  references.catch(() => loaded.delete(path));
  return references;
}

async function parseReferences(path: string): Promise<References> {
  const data = JSON.parse(await readFile(path, 'utf8')) as Record<string, LanguageReference>;
  const out: References = new Map();
  for (const [lang, r] of Object.entries(data)) {
    out.set(lang, { ref: { logProb: new Map(r.vocab), logProbOov: r.oov }, threshold: r.threshold });
  }
  return out;
}

export function createTokenOutlier(o: TokenOutlierOptions, ctx: StageContext): GlobalStage {
  const mapFile = (i: number) => join(ctx.workDir, 'map', `shard-${String(i).padStart(5, '0')}.json`);
  const referenceFile = join(ctx.workDir, 'reference.json');
  const scored = (doc: Doc, words: readonly string[]) => !isCode(doc) && words.length >= o.min_words;

  return {
    kind: 'global',
    name: 'token-outlier',
    partitions: 1,

    async map(shard: ShardRef, docs: AsyncIterable<Doc>): Promise<void> {
      const perLang = new Map<string, { docs: number; counts: WordCounts; sample: [number, string, [string, number][]][] }>();
      for await (const doc of docs) {
        const words = wordsOf(doc);
        if (!scored(doc, words)) continue;
        const h = fnv1aUnitHash(doc.id, ctx.seed);
        const lang = languageOf(doc);
        let d = perLang.get(lang);
        if (d === undefined) perLang.set(lang, (d = { docs: 0, counts: new Map(), sample: [] }));
        d.docs++;
        const bag = countWords(words);
        if (h < o.sample_rate) mergeCounts(d.counts, bag);
        d.sample.push([h, doc.id, [...bag]]); // bag order = first occurrence in the text: deterministic
        if (d.sample.length >= 2 * o.quantile_sample_docs) d.sample = bottomK(d.sample, o.quantile_sample_docs);
      }
      const out: Record<string, ShardLanguageData> = {};
      for (const [lang, d] of perLang) {
        out[lang] = { docs: d.docs, counts: topWords(d.counts, 4 * o.vocab_size), sample: bottomK(d.sample, o.quantile_sample_docs) };
      }
      // Plain JSON.stringify: languages come in order of first appearance in the shard, which is
      // deterministic, and a key-sorting replacer called on every number took a fifth of the map.
      await writeFileAtomic(mapFile(shard.index), JSON.stringify(out));
    },

    async reduce(_partition: number, shardCount: number): Promise<void> {
      const counts = new Map<string, WordCounts>();
      const samples = new Map<string, [number, string, [string, number][]][]>();
      const docs = new Map<string, number>();
      for (let i = 0; i < shardCount; i++) {
        const data = JSON.parse(await readFile(mapFile(i), 'utf8')) as Record<string, ShardLanguageData>;
        for (const [lang, d] of Object.entries(data)) {
          if (!counts.has(lang)) counts.set(lang, new Map());
          mergeCounts(counts.get(lang)!, d.counts);
          samples.set(lang, bottomK([...(samples.get(lang) ?? []), ...d.sample], o.quantile_sample_docs));
          docs.set(lang, (docs.get(lang) ?? 0) + d.docs);
        }
      }
      const references: Record<string, LanguageReference> = {};
      const stats: Record<string, unknown> = {};
      for (const lang of [...counts.keys()].sort()) {
        const ref = buildReference(counts.get(lang)!, o.vocab_size);
        const sample = samples.get(lang) ?? [];
        const kls = sample.map(([, , bag]) => klDivergence(new Map(bag), ref));
        const threshold = kls.length >= o.min_sample_docs ? quantile(kls, o.quantile) : null;
        references[lang] = { vocab: [...ref.logProb], oov: ref.logProbOov, threshold, sample_docs: kls.length };
        stats[lang] = { scored_docs: docs.get(lang) ?? 0, sample_docs: kls.length, vocab: ref.logProb.size, threshold, quantile: o.quantile };
      }
      await writeFileAtomic(referenceFile, stableJson(references, 0));
      await mkdir(join(ctx.outputDir, 'stats'), { recursive: true });
      await writeFileAtomic(join(ctx.outputDir, 'stats', 'token-outlier.json'), stableJson({ languages: stats }));
    },

    async applier(): Promise<DocStage> {
      const refs = await loadReferences(referenceFile);
      const decide = (doc: Doc): Verdict => {
        if (isCode(doc)) return skipCode(doc, 'token_outlier');
        const words = wordsOf(doc);
        if (words.length < o.min_words) {
          doc.meta.token_outlier = { skipped: 'short' };
          return KEEP;
        }
        const r = refs.get(languageOf(doc));
        if (r === undefined) {
          doc.meta.token_outlier = { skipped: 'no reference' };
          return KEEP;
        }
        const kl = klDivergence(countWords(words), r.ref);
        doc.meta.token_outlier = { kl: round4(kl), threshold: r.threshold === null ? null : round4(r.threshold) };
        if (r.threshold !== null && kl > r.threshold) return drop('kl_divergence', kl.toFixed(3));
        return KEEP;
      };
      return { kind: 'filter', name: 'token-outlier', process: (docs) => docs.map(decide) };
    },
  };
}

export const tokenOutlierStage = defineStage<TokenOutlierOptions>({
  name: 'token-outlier',
  kind: 'global',
  description: 'Llama 3 token-distribution outliers: KL divergence from a per-language corpus word distribution; drop above the 99.5th percentile',
  options: tokenOutlierOptions,
  create: (o, ctx) => createTokenOutlier(o, ctx),
});

/** This module's stages, for the registry. */
export const stages = [tokenOutlierStage];
