/**
 * `select`: keeps documents whose annotated `meta` values pass thresholds, so a researcher can
 * re-threshold annotated output without re-running the models (Dolma's "annotate once, decide
 * many times"). Dotted paths reach nested fields: `gopher_quality.mean_word_length`.
 */
import { z } from 'zod';
import { defineRuleStage, drop, KEEP, type Verdict } from '../pipeline/stage.ts';
import type { Doc } from '../pipeline/doc.ts';

const ConditionSchema = z
  .object({
    field: z.string().min(1).describe('meta path, dotted for nested fields (e.g. gopher_quality.mean_word_length).'),
    min: z.number().optional().describe('Keep when the value is a number of at least this.'),
    max: z.number().optional().describe('Keep when the value is a number of at most this.'),
    in: z.array(z.union([z.string(), z.number(), z.boolean()])).optional().describe('Keep when the value is one of these.'),
    not_in: z.array(z.union([z.string(), z.number(), z.boolean()])).optional().describe('Keep when the value is none of these.'),
    missing: z.enum(['keep', 'drop']).default('drop').describe('What to do when the field is absent.'),
  })
  .strict();

const SelectOptions = z
  .object({
    where: z.array(ConditionSchema).default([]).describe('Conditions, all of which a kept document passes, checked in order.'),
    would_drop: z
      .array(z.string().min(1))
      .optional()
      .describe('Drop documents that these stages, run with mode: annotate, tagged (meta.<stage>.would_drop); ["*"] for any stage. Checked before `where`.'),
  })
  .strict()
  .refine((o) => o.where.length > 0 || o.would_drop !== undefined, { message: 'give `where` conditions, `would_drop` stages, or both' });
type Condition = z.output<typeof ConditionSchema>;

export function metaValue(meta: Record<string, unknown>, path: string): unknown {
  let v: unknown = meta;
  for (const part of path.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

export function checkCondition(doc: Doc, c: Condition): Verdict {
  const v = metaValue(doc.meta, c.field);
  if (v === undefined || v === null) return c.missing === 'keep' ? KEEP : drop(`${c.field}_missing`);
  if (c.min !== undefined && !(typeof v === 'number' && v >= c.min)) return drop(`${c.field}_below_min`);
  if (c.max !== undefined && !(typeof v === 'number' && v <= c.max)) return drop(`${c.field}_above_max`);
  if (c.in && !c.in.includes(v as string | number | boolean)) return drop(`${c.field}_not_in`);
  if (c.not_in && c.not_in.includes(v as string | number | boolean)) return drop(`${c.field}_in_excluded`);
  return KEEP;
}

/**
 * The first would-be verdict among `stages` (meta keys of stages run with mode: annotate, or `*`
 * for every one, in the order the stages tagged the document): rule `<meta key>.<rule>`.
 */
export function wouldDrop(doc: Doc, stages: readonly string[]): Verdict {
  const keys = stages.includes('*') ? Object.keys(doc.meta) : stages.map((s) => s.replace(/-/g, '_'));
  for (const key of keys) {
    const own = doc.meta[key];
    if (own === null || typeof own !== 'object' || Array.isArray(own)) continue;
    const rule = (own as Record<string, unknown>).would_drop;
    if (typeof rule === 'string') {
      const detail = (own as Record<string, unknown>).would_drop_detail;
      return drop(`${key}.${rule}`, typeof detail === 'string' ? detail : undefined);
    }
  }
  return KEEP;
}

export const selectStage = defineRuleStage({
  name: 'select',
  kind: 'filter',
  description: 'Keep documents whose meta fields pass thresholds, or that no stage in mode: annotate tagged (re-threshold annotated output)',
  options: SelectOptions,
  rule: (doc, o) => {
    if (o.would_drop) {
      const v = wouldDrop(doc, o.would_drop);
      if (!v.keep) return v;
    }
    for (const c of o.where) {
      const v = checkCondition(doc, c);
      if (!v.keep) return v;
    }
    return KEEP;
  },
});

/** This module's stages, for the registry. */
export const stages = [selectStage];
