/** Applies a mix plan to documents: how many copies of each document to emit. */
import type { Doc } from '../pipeline/doc.ts';

/**
 * Loads `plan.json` and returns, per document, the number of copies to emit
 * (floor(rate) plus one more with probability frac(rate), by a seeded hash of the id).
 * Placeholder until the planner lands (issue 7): every document once.
 */
export async function loadPlanSampler(_planPath: string, _seed: number): Promise<(doc: Doc) => number> {
  return () => 1;
}
