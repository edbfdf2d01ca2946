/**
 * Applies a mix plan to documents: each document is emitted floor(rate) times, plus once more
 * when a seeded hash of its id falls below frac(rate). No state is shared between documents or
 * calls, so any shard, worker or rerun decides the same copies for the same document.
 */
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import type { Doc } from '../pipeline/doc.ts';
import { InputError, RefineryError } from '../pipeline/errors.ts';
import { unitHash } from '../pipeline/hash.ts';
import { bucketId, bucketKeyOfDoc } from './bucket.ts';

const planFileSchema = z.looseObject({
  buckets: z.array(z.looseObject({ id: z.string(), rate: z.number().nonnegative() })),
});

/** floor(rate) copies, plus one when the document's hash is below frac(rate). */
export function copiesFor(rate: number, seed: number, source: string, id: string): number {
  const whole = Math.floor(rate);
  const frac = rate - whole;
  return whole + (frac > 0 && unitHash(seed, `${source}\u0000${id}`) < frac ? 1 : 0);
}

/** Per-bucket rates from a plan; throws for a document whose bucket the plan does not cover. */
export function planSampler(rates: ReadonlyMap<string, number>, seed: number, planPath = 'plan.json'): (doc: Doc) => number {
  return (doc) => {
    const key = bucketKeyOfDoc(doc);
    const rate = rates.get(bucketId(key));
    if (rate === undefined) {
      throw new RefineryError(`${planPath}: document ${doc.id} is in bucket ${bucketId(key)}, which the plan has no rate for (was the census taken from other data?)`);
    }
    return copiesFor(rate, seed, key.source, doc.id);
  };
}

/**
 * Loads `plan.json` and returns, per document, the number of copies to emit
 * (floor(rate) plus one more with probability frac(rate), by a seeded hash of the id).
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
  return planSampler(new Map(parsed.data.buckets.map((b) => [b.id, b.rate])), seed, planPath);
}
