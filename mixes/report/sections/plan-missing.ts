/** The note of the sections that compare the run with its mix plan when the run has none. */
import { missing } from '../section.ts';

export const NO_PLAN = missing('not run: no plan.json (refinery mix plan) in the run folder or referenced by the manifest');
