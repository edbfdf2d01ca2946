/** What a prose rule does with a source-code document: keep it, and say so in its meta entry. */
import { KEEP, type Verdict } from '../pipeline/stage.ts';
import type { Doc } from '../pipeline/doc.ts';

export function skipCode(doc: Doc, metaKey: string): Verdict {
  doc.meta[metaKey] = { skipped: 'code' };
  return KEEP;
}
