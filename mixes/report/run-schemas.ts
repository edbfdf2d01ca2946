/** The shapes of the run files the report reads: stats.json, the mix plan and the tokenized manifest's buckets. */
import { z } from 'zod';

const stageSchema = z.looseObject({
  name: z.string(),
  kind: z.string().default('unknown'),
  in: z.number().default(0),
  kept: z.number().default(0),
  rejected: z.number().default(0),
  errored: z.number().default(0),
  bytes_in: z.number().default(0),
  bytes_out: z.number().default(0),
  seconds: z.number().default(0),
  reasons: z.record(z.string(), z.number()).default({}),
});
export const statsSchema = z.looseObject({
  totals: z.looseObject({ in: z.number(), kept: z.number(), rejected: z.number(), errored: z.number() }),
  stages: z.array(stageSchema).default([]),
});
const shareLineSchema = z.looseObject({ natural: z.number(), planned: z.number(), min: z.number().optional(), max: z.number().optional(), available_tokens: z.number(), planned_tokens: z.number() });
export const planSchema = z.looseObject({
  status: z.string(),
  total_tokens: z.number(),
  planned_tokens: z.number(),
  shares: z.looseObject({
    category: z.record(z.string(), shareLineSchema),
    non_english: shareLineSchema,
    source: z.record(z.string(), shareLineSchema.extend({ epochs: z.number() })),
  }),
  constraints: z.array(z.looseObject({ key: z.string(), kind: z.string(), bound: z.string(), binding: z.boolean(), shortfall_tokens: z.number(), message: z.string() })),
  buckets: z.array(z.looseObject({ id: z.string(), tokens: z.number(), cut: z.number().optional() })).default([]),
});
export type PlanData = z.output<typeof planSchema>;
export type StatsData = z.output<typeof statsSchema>;

/** A bucket of the tokenized manifest: its key and what it holds. */
export interface ManifestBucket {
  source: string;
  category: string;
  language: string;
  quality_band: string;
  docs: number;
  tokens: number;
}

