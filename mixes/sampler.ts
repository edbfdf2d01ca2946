/**
 * Applies a mix plan to documents: each document is emitted floor(rate) times, plus once more
 * when a seeded hash of its source and id falls below its bucket's cut. The cut is chosen in one
 * pass over the documents when the plan is made (`cutPlan`): in hash order, the bucket's documents
 * are taken until their tokens come closest to frac(rate) × the bucket's tokens, so every bucket
 * gets its planned tokens within one document. A plan without cuts falls back to frac(rate) as
 * the cut, an independent draw per document (planned tokens only on average). Either way no state
 * is shared between documents or calls, so any shard, worker or rerun decides the same copies.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Doc } from '../pipeline/doc.ts';
import { tokensOfDoc } from './census.ts';
import type { MixPlan } from './planner.ts';
import { InputError, RefineryError } from '../pipeline/errors.ts';
import { unitHash } from '../pipeline/hash.ts';
import { bucketId, bucketKeyOfDoc } from './bucket.ts';

const planFileSchema = z.looseObject({
  buckets: z.array(z.looseObject({ id: z.string(), rate: z.number().nonnegative(), cut: z.number().min(0).max(1).optional() })),
  sampling: z.looseObject({ method: z.string(), seed: z.number().int() }).optional(),
});

function hashOf(seed: number, source: string, id: string): number {
  return unitHash(seed, `${source}\u0000${id}`);
}

/** floor(rate) copies, plus one when the document's hash is below frac(rate). */
export function copiesFor(rate: number, seed: number, source: string, id: string): number {
  const whole = Math.floor(rate);
  const frac = rate - whole;
  return whole + (frac > 0 && hashOf(seed, source, id) < frac ? 1 : 0);
}

/**
 * Per-bucket rates (and cuts, where the plan has them) from a plan; throws for a document whose
 * bucket the plan does not cover.
 */
export function planSampler(rates: ReadonlyMap<string, number>, seed: number, planPath = 'plan.json', cuts: ReadonlyMap<string, number> = new Map()): (doc: Doc) => number {
  return (doc) => {
    const key = bucketKeyOfDoc(doc);
    const id = bucketId(key);
    const rate = rates.get(id);
    if (rate === undefined) {
      throw new RefineryError(`${planPath}: document ${doc.id} is in bucket ${id}, which the plan has no rate for (was the census taken from other data?)`);
    }
    const cut = cuts.get(id);
    if (cut === undefined) return copiesFor(rate, seed, key.source, doc.id);
    const whole = Math.floor(rate);
    return whole + (rate > whole && hashOf(seed, key.source, doc.id) < cut ? 1 : 0);
  };
}

/**
 * The cut pass: reads the documents the census counted and sets, on every bucket whose rate has
 * a fraction, the hash below which a document gets its extra copy (`cut`), with the documents and
 * tokens that gives (`cut_docs`, `cut_tokens`); records `sampling` (method and seed) in the plan.
 * Holds a hash and a token count (16 bytes) per document of those buckets. Tokens are counted as
 * the census counts them (`meta.num_tokens`, else the byte estimate).
 */
export async function cutPlan(plan: MixPlan, docs: AsyncIterable<Doc> | Iterable<Doc>, seed: number): Promise<MixPlan> {
  const members = new Map<string, { hashes: number[]; tokens: number[] }>();
  for (const b of plan.buckets) if (b.rate > Math.floor(b.rate) && b.available_tokens > 0) members.set(b.id, { hashes: [], tokens: [] });
  for await (const doc of docs) {
    const key = bucketKeyOfDoc(doc);
    const m = members.get(bucketId(key));
    if (!m) continue;
    m.hashes.push(hashOf(seed, key.source, doc.id));
    m.tokens.push(tokensOfDoc(doc).tokens);
  }
  const buckets = plan.buckets.map((b) => {
    const m = members.get(b.id);
    if (!m) return b;
    const target = (b.rate - Math.floor(b.rate)) * b.available_tokens;
    const order = m.hashes.map((_, i) => i).sort((x, y) => m.hashes[x]! - m.hashes[y]!);
    // The shortest prefix in hash order reaching the target, or one document less if that is closer.
    let taken = 0;
    let tokens = 0;
    while (taken < order.length && tokens < target) tokens += m.tokens[order[taken++]!]!;
    if (taken > 0) {
      const last = m.tokens[order[taken - 1]!]!;
      if (target - (tokens - last) <= tokens - target) {
        taken--;
        tokens -= last;
      }
    }
    const cut = taken < order.length ? m.hashes[order[taken]!]! : 1;
    return { ...b, cut, cut_docs: taken, cut_tokens: tokens };
  });
  return { ...plan, buckets, sampling: { method: 'hash_cut', seed } };
}

/**
 * Loads `plan.json` and returns, per document, the number of copies to emit: floor(rate) plus
 * one more when a seeded hash of the id is below the bucket's cut (frac(rate) without cuts).
 * A plan with cuts is sampled with the seed its cuts were made with; `seed` serves the others.
 */
export async function loadPlanSampler(planPath: string, seed: number): Promise<(doc: Doc) => number> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(planPath, 'utf8'));
  } catch (e) {
    throw new InputError(planPath, {}, `cannot read the plan: ${(e as Error).message}`);
  }
  const parsed = planFileSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new InputError(planPath, {}, `not a mix plan: ${issue.path.join('.') || '(top level)'}: ${issue.message}`);
  }
  const { buckets, sampling } = parsed.data;
  const cuts = new Map(buckets.flatMap((b) => (b.cut === undefined ? [] : [[b.id, b.cut] as const])));
  return planSampler(new Map(buckets.map((b) => [b.id, b.rate])), cuts.size > 0 && sampling ? sampling.seed : seed, planPath, cuts);
}
