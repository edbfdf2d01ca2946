/** Exact dedup: documents whose normalised text has the same SHA-1 are one cluster; the first is kept. */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { defineStage } from '../pipeline/stage.ts';
import { normalizationSchema, normalizeText } from './normalize-text.ts';
import { docDedupStage } from './doc-dedup-stage.ts';

export const exactDedupOptions = z.object({
  normalization: normalizationSchema.default(normalizationSchema.parse({})).describe("datatrove's exact dedup hashes `simplify_text` output, as its MinHash does."),
  partitions: z.number().int().min(1).max(65536).default(16).describe('Reduce tasks; each holds about (records / partitions) × 24 bytes.'),
}).strict();
export type ExactDedupOptions = z.infer<typeof exactDedupOptions>;

/** 64 bits of SHA-1: about 0.03 expected false matches among 10^9 distinct documents. */
export function textKey(text: string): [number, number] {
  const d = createHash('sha1').update(text).digest();
  return [d.readUInt32BE(0), d.readUInt32BE(4)];
}

export const exactDedupStage = defineStage<ExactDedupOptions>({
  name: 'exact-dedup',
  kind: 'global',
  description: 'Removes documents whose normalised text is identical to an earlier one (keeps the first)',
  options: exactDedupOptions,
  create: (o, ctx) =>
    docDedupStage({
      name: 'exact-dedup',
      rule: 'exact',
      partitions: o.partitions,
      workDir: ctx.workDir,
      files: ctx.files,
      outputDir: ctx.outputDir,
      settings: { normalization: o.normalization },
      keyer: () => ({
        add(doc, _pos, emit) {
          const [hi, lo] = textKey(normalizeText(doc.text, o.normalization));
          emit(hi, lo);
        },
        finish: async () => undefined,
      }),
    }),
});

/** This module's stages, for the registry. */
export const stages = [exactDedupStage];
