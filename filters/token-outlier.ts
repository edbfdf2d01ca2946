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
import { wordsOf } from '../text/doc-text.ts';
import { fnv1aUnitHash, hashString32 } from '../pipeline/hash.ts';
import { isCode } from '../text/code-detection.ts';
import { skipCode } from './skip-code.ts';
import { BagFileReader, BagFileWriter } from './token-outlier/bag-file.ts';
import { BagCounter, buildReference, klDivergence, quantile, Tally, topWords, Vocabulary, type Bag } from './token-outlier/distribution.ts';
import { round4 } from './meta-number.ts';
import { needAll, readRunText, type RunFiles } from '../pipeline/run-folder/files.ts';

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

/** A document of the quantile sample: its seeded hash, id, and bag (word ids of its language's vocabulary). */
interface SampleDoc {
  h: number;
  id: string;
  bag: Bag;
}
/**
 * One language of a shard's map file. `words` are the lower-cased words that `counts` (flat
 * [id, count, ...], the shard's most frequent) and the sample's bags (flat [id, count, ...]) number.
 */
interface ShardLanguageData {
  docs: number;
  words: string[];
  counts: number[];
  sample: [number, string, number[]][];
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
function bottomK(items: SampleDoc[], k: number): SampleDoc[] {
  return items.sort((a, b) => a.h - b.h || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).slice(0, k);
}

/** A language's reference as the applier reads it: vocabulary word → index into `logProb`. */
interface LoadedReference {
  index: Map<string, number>;
  logProb: Float64Array;
  logProbOov: number;
  threshold: number | null;
}
type References = Map<string, LoadedReference>;

/**
 * The references of a run, parsed once per process (by path, size and modification time) rather
 * than once per shard's applier: a worker thread applies one shard after another.
 */
const loaded = new Map<string, { stamp: string; references: Promise<References> }>();

async function loadReferences(files: RunFiles, path: string): Promise<References> {
  if (!(await files.need(path))) throw new Error(`${path}: missing from the run's storage`);
  const s = await stat(path);
  const stamp = `${s.size}:${s.mtimeMs}`;
  const hit = loaded.get(path);
  if (hit !== undefined && hit.stamp === stamp) return hit.references;
  const references = parseReferences(path);
  // One run's references at a time: on a bucket every task reads them from a scratch path of its own.
  loaded.clear();
  loaded.set(path, { stamp, references });
  references.catch(() => loaded.delete(path));
  return references;
}

async function parseReferences(path: string): Promise<References> {
  const data = JSON.parse(await readFile(path, 'utf8')) as Record<string, LanguageReference>;
  const out: References = new Map();
  for (const [lang, r] of Object.entries(data)) {
    const index = new Map<string, number>();
    const logProb = new Float64Array(r.vocab.length);
    r.vocab.forEach(([w, lp], i) => {
      index.set(w, i);
      logProb[i] = lp;
    });
    out.set(lang, { index, logProb, logProbOov: r.oov, threshold: r.threshold });
  }
  return out;
}

const idHash = (doc: Doc) => hashString32(doc.id, 0);

/**
 * Scores a shard's documents against the references. A document that map counted is scored from
 * its record in the shard's bag file, its ids resolved through the shard's words (once per word
 * per shard, not once per occurrence), without splitting its text again, which would be most of
 * apply's work (bench/token-outlier-phases.ts measures apply's CPU). A document
 * that is not the next record (the runner retrying a batch one document at a time) is split and
 * counted, with the same result.
 */
class ShardScorer {
  /** per language: the log probability of each of the shard's words (NaN outside the vocabulary) */
  private readonly logProbs = new Map<string, { lp: Float64Array; filled: number }>();
  private readonly spellings = new Map<string, Vocabulary>();
  private readonly counter = new BagCounter();

  private constructor(
    private readonly refs: References,
    private readonly bags: BagFileReader | null,
    private readonly words: Record<string, string[]>,
  ) {}

  static async open(files: RunFiles, refs: References, bagsPath: string, wordsPath: string): Promise<ShardScorer> {
    const bags = (await files.need(bagsPath)) ? BagFileReader.open(bagsPath) : null;
    const words = bags === null ? {} : (JSON.parse(await readRunText(files, wordsPath)) as Record<string, string[]>);
    return new ShardScorer(refs, bags, words);
  }

  score(doc: Doc, minWords: number): 'short' | 'no reference' | { kl: number; threshold: number | null } {
    const rec = this.bags?.take(idHash(doc)) ?? null;
    const wordCount = rec === null ? wordsOf(doc).length : rec.words;
    if (wordCount < minWords) return 'short';
    const lang = languageOf(doc);
    const r = this.refs.get(lang);
    if (r === undefined) return 'no reference';
    if (rec !== null && rec.bag.ids.length > 0) return { kl: klDivergence(rec.bag, this.logProbOf(lang, r), r.logProbOov), threshold: r.threshold };
    // Not in the bag file: the document's words, numbered by the shard's words then new ones.
    let v = this.spellings.get(lang);
    if (v === undefined) {
      v = new Vocabulary();
      for (const w of this.words[lang] ?? []) v.idOf(w);
      this.spellings.set(lang, v);
    }
    const bag = this.counter.bagOf(wordsOf(doc), (w) => v.idOf(w));
    return { kl: klDivergence(bag, this.logProbOf(lang, r), r.logProbOov), threshold: r.threshold };
  }

  /** The log probabilities of the language's shard words, extended as the fallback numbers new ones. */
  private logProbOf(lang: string, r: LoadedReference): Float64Array {
    const words = this.spellings.get(lang)?.words ?? this.words[lang] ?? [];
    let t = this.logProbs.get(lang);
    if (t === undefined) this.logProbs.set(lang, (t = { lp: new Float64Array(words.length), filled: 0 }));
    if (t.filled < words.length) {
      if (t.lp.length < words.length) {
        const lp = new Float64Array(Math.max(words.length, 2 * t.lp.length));
        lp.set(t.lp.subarray(0, t.filled));
        t.lp = lp;
      }
      for (let i = t.filled; i < words.length; i++) t.lp[i] = r.logProb[r.index.get(words[i]!) ?? -1] ?? NaN;
      t.filled = words.length;
    }
    return t.lp;
  }

  close(): void {
    this.bags?.close();
  }
}

/** A bag as flat [id, count, ...], its ids renumbered by `renumber` (which numbers new ids as they come). */
function flatBag(bag: Bag, renumber: (id: number) => number): number[] {
  const out = new Array<number>(2 * bag.ids.length);
  for (let i = 0; i < bag.ids.length; i++) {
    out[2 * i] = renumber(bag.ids[i]!);
    out[2 * i + 1] = bag.counts[i]!;
  }
  return out;
}

function bagOfFlat(flat: readonly number[], idOf: (shardId: number) => number): Bag {
  const ids = new Int32Array(flat.length / 2);
  const counts = new Int32Array(flat.length / 2);
  for (let i = 0; i < ids.length; i++) {
    ids[i] = idOf(flat[2 * i]!);
    counts[i] = flat[2 * i + 1]!;
  }
  return { ids, counts };
}

/** What map gathers for one language of a shard. */
class LanguageMap {
  docs = 0;
  readonly vocabulary = new Vocabulary();
  readonly tally = new Tally();
  sample: SampleDoc[] = [];
  readonly idOf = (word: string): number => this.vocabulary.idOf(word);

  /** The map file's entry: only the words it refers to, numbered in order of reference. */
  toData(topCount: number, sampleDocs: number): ShardLanguageData {
    const words: string[] = [];
    const renumbered = new Int32Array(this.vocabulary.size).fill(-1);
    const renumber = (id: number): number => {
      if (renumbered[id] === -1) {
        renumbered[id] = words.length;
        words.push(this.vocabulary.words[id]!);
      }
      return renumbered[id]!;
    };
    const counts: number[] = [];
    for (const id of topWords(this.tally, this.vocabulary.words, topCount)) counts.push(renumber(id), this.tally.counts[id]!);
    const sample = bottomK(this.sample, sampleDocs).map((s): [number, string, number[]] => [s.h, s.id, flatBag(s.bag, renumber)]);
    return { docs: this.docs, words, counts, sample };
  }
}

/** What reduce gathers for one language over every shard. */
class LanguageReduce {
  docs = 0;
  readonly vocabulary = new Vocabulary();
  readonly tally = new Tally();
  sample: SampleDoc[] = [];

  add(d: ShardLanguageData, sampleDocs: number): void {
    const ids = Int32Array.from(d.words, (w) => this.vocabulary.idOf(w));
    const idOf = (shardId: number) => ids[shardId]!;
    for (let i = 0; i < d.counts.length; i += 2) this.tally.add(idOf(d.counts[i]!), d.counts[i + 1]!);
    for (const [h, id, flat] of d.sample) this.sample.push({ h, id, bag: bagOfFlat(flat, idOf) });
    this.sample = bottomK(this.sample, sampleDocs);
    this.docs += d.docs;
  }
}

export function createTokenOutlier(o: TokenOutlierOptions, ctx: StageContext): GlobalStage {
  const mapFile = (i: number) => join(ctx.workDir, 'map', `shard-${String(i).padStart(5, '0')}.json`);
  const bagsFile = (i: number) => join(ctx.workDir, 'map', `shard-${String(i).padStart(5, '0')}.bags`);
  const wordsFile = (i: number) => join(ctx.workDir, 'map', `shard-${String(i).padStart(5, '0')}.words.json`);
  const referenceFile = join(ctx.workDir, 'reference.json');

  return {
    kind: 'global',
    name: 'token-outlier',
    partitions: 1,

    async map(shard: ShardRef, docs: AsyncIterable<Doc>): Promise<void> {
      const perLang = new Map<string, LanguageMap>();
      const counter = new BagCounter();
      const bags = await BagFileWriter.open(bagsFile(shard.index));
      try {
        for await (const doc of docs) {
          if (isCode(doc)) continue;
          const words = wordsOf(doc);
          if (words.length < o.min_words) {
            bags.write(idHash(doc), words.length, null);
            continue;
          }
          const h = fnv1aUnitHash(doc.id, ctx.seed);
          const lang = languageOf(doc);
          let d = perLang.get(lang);
          if (d === undefined) perLang.set(lang, (d = new LanguageMap()));
          d.docs++;
          const bag = counter.bagOf(words, d.idOf); // in order of first occurrence in the text: deterministic
          bags.write(idHash(doc), words.length, bag);
          if (h < o.sample_rate) d.tally.addBag(bag);
          d.sample.push({ h, id: doc.id, bag });
          if (d.sample.length >= 2 * o.quantile_sample_docs) d.sample = bottomK(d.sample, o.quantile_sample_docs);
        }
      } catch (e) {
        bags.abort();
        throw e;
      }
      bags.close();
      const out: Record<string, ShardLanguageData> = {};
      const words: Record<string, string[]> = {};
      for (const [lang, d] of perLang) {
        out[lang] = d.toData(4 * o.vocab_size, o.quantile_sample_docs);
        words[lang] = d.vocabulary.words;
      }
      // Plain JSON.stringify: languages come in order of first appearance in the shard, which is
      // deterministic, and a key-sorting replacer called on every number took a fifth of the map.
      await writeFileAtomic(wordsFile(shard.index), JSON.stringify(words));
      await writeFileAtomic(mapFile(shard.index), JSON.stringify(out));
    },

    async reduce(_partition: number, shardCount: number): Promise<void> {
      const perLang = new Map<string, LanguageReduce>();
      await needAll(ctx.files, Array.from({ length: shardCount }, (_, i) => mapFile(i)));
      for (let i = 0; i < shardCount; i++) {
        const data = JSON.parse(await readRunText(ctx.files, mapFile(i))) as Record<string, ShardLanguageData>;
        for (const [lang, d] of Object.entries(data)) {
          let r = perLang.get(lang);
          if (r === undefined) perLang.set(lang, (r = new LanguageReduce()));
          r.add(d, o.quantile_sample_docs);
        }
      }
      const references: Record<string, LanguageReference> = {};
      const stats: Record<string, unknown> = {};
      for (const lang of [...perLang.keys()].sort()) {
        const r = perLang.get(lang)!;
        const words = r.vocabulary.words;
        const ref = buildReference(r.tally, words, o.vocab_size);
        const kls = r.sample.map((s) => klDivergence(s.bag, ref.logProb, ref.logProbOov));
        const threshold = kls.length >= o.min_sample_docs ? quantile(kls, o.quantile) : null;
        references[lang] = { oov: ref.logProbOov, sample_docs: kls.length, threshold, vocab: ref.vocab.map((id) => [words[id]!, ref.logProb[id]!]) };
        stats[lang] = { scored_docs: r.docs, sample_docs: kls.length, vocab: ref.vocab.length, threshold, quantile: o.quantile };
      }
      // Languages and keys inserted in sorted order: stableJson's bytes, without its replacer called
      // on every vocabulary entry (a cost that grows with the vocabulary).
      await writeFileAtomic(referenceFile, JSON.stringify(references) + '\n');
      await mkdir(join(ctx.outputDir, 'stats'), { recursive: true });
      await writeFileAtomic(join(ctx.outputDir, 'stats', 'token-outlier.json'), stableJson({ languages: stats }));
    },

    async applier(shard: ShardRef): Promise<DocStage> {
      const refs = await loadReferences(ctx.files, referenceFile);
      const scorer = await ShardScorer.open(ctx.files, refs, bagsFile(shard.index), wordsFile(shard.index));
      const decide = (doc: Doc): Verdict => {
        if (isCode(doc)) return skipCode(doc, 'token_outlier');
        const scored = scorer.score(doc, o.min_words);
        if (scored === 'short') {
          doc.meta.token_outlier = { skipped: 'short' };
          return KEEP;
        }
        if (scored === 'no reference') {
          doc.meta.token_outlier = { skipped: 'no reference' };
          return KEEP;
        }
        const { kl, threshold } = scored;
        doc.meta.token_outlier = { kl: round4(kl), threshold: threshold === null ? null : round4(threshold) };
        if (threshold !== null && kl > threshold) return drop('kl_divergence', kl.toFixed(3));
        return KEEP;
      };
      return { kind: 'filter', name: 'token-outlier', process: (docs) => docs.map(decide), close: async () => scorer.close() };
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
