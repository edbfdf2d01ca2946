/**
 * `select`: keeps documents whose annotated `meta` values pass thresholds, so a researcher can
 * re-threshold annotated output without re-running the models (Dolma's "annotate once, decide
 * many times"). Dotted paths reach nested fields: `gopher_quality.mean_word_length`.
 * A selection that can only be a mistake is refused rather than run: a `would_drop` stage that
 * does not exist, bounds no value can pass, and a `where` field (without `missing:`) that no
 * document of a shard has.
 */
import { z } from 'zod';
import { defineStage, drop, KEEP, type Verdict } from '../pipeline/stage.ts';
import { RefineryError } from '../pipeline/errors.ts';
import { stageNames } from '../pipeline/registry.ts';
import type { Doc } from '../pipeline/doc.ts';

const ConditionSchema = z
  .object({
    field: z.string().min(1).describe('meta path, dotted for nested fields (e.g. gopher_quality.mean_word_length).'),
    min: z.number().optional().describe('Keep when the value is a number of at least this.'),
    max: z.number().optional().describe('Keep when the value is a number of at most this.'),
    in: z.array(z.union([z.string(), z.number(), z.boolean()])).optional().describe('Keep when the value is one of these.'),
    not_in: z.array(z.union([z.string(), z.number(), z.boolean()])).optional().describe('Keep when the value is none of these.'),
    missing: z
      .enum(['keep', 'drop'])
      .optional()
      .describe('What to do when the field is absent: keep, or drop. Not given: drop, and a field that no document of a shard has is refused as a misspelt name.'),
  })
  .strict()
  // Bounds no value can pass would drop every document as if by a rule: a mistake to refuse, not a selection.
  .refine((c) => c.min === undefined || c.max === undefined || c.min <= c.max, { message: 'min is above max: no value can pass; swap them', path: ['max'] })
  .refine((c) => c.in === undefined || c.in.length > 0, { message: 'an empty list: no value can pass', path: ['in'] });

/**
 * Stage names in `would_drop` are checked against the registered stages (built-in and plugins):
 * a misspelt name would match no tag, and select would keep every document it was meant to drop.
 */
const WouldDropSchema = z
  .array(z.string().min(1))
  .optional()
  .describe('Drop documents that these stages, run with mode: annotate, tagged (meta.<stage>.would_drop); ["*"] for any stage. Checked before `where`.')
  .superRefine((names, ctx) => {
    const known = stageNames();
    if (!names || known.length === 0) return;
    names.forEach((name, i) => {
      if (name !== '*' && !known.includes(name) && !known.includes(name.replace(/_/g, '-'))) {
        ctx.addIssue({ code: z.ZodIssueCode.custom, path: [i], message: `no stage is named "${name}"; give stage names (${known.sort().join(', ')}) or "*"` });
      }
    });
  });

const SelectOptions = z
  .object({
    where: z.array(ConditionSchema).default([]).describe('Conditions, all of which a kept document passes, checked in order.'),
    would_drop: WouldDropSchema,
  })
  .strict()
  .refine((o) => o.where.length > 0 || o.would_drop !== undefined, { message: 'give `where` conditions, `would_drop` stages, or both' });
type Condition = z.output<typeof ConditionSchema>;
type SelectOptions = z.output<typeof SelectOptions>;

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

function decide(doc: Doc, o: SelectOptions): Verdict {
  if (o.would_drop) {
    const v = wouldDrop(doc, o.would_drop);
    if (!v.keep) return v;
  }
  for (const c of o.where) {
    const v = checkCondition(doc, c);
    if (!v.keep) return v;
  }
  return KEEP;
}

export const selectStage = defineStage<SelectOptions>({
  name: 'select',
  kind: 'filter',
  description: 'Keep documents whose meta fields pass thresholds, or that no stage in mode: annotate tagged (re-threshold annotated output)',
  options: SelectOptions,
  create: (o, ctx) => {
    // Conditions without `missing:` whose field no document has had yet; at the end of the shard,
    // any left names a field that does not exist (a typo drops every document as "missing").
    const unseen = new Map(o.where.flatMap((c, i) => (c.missing === undefined ? [[i, c.field] as const] : [])));
    const seenKeys = new Set<string>();
    let docs = 0;
    return {
      kind: 'filter',
      name: 'select',
      process: (batch) =>
        batch.map((doc) => {
          docs++;
          if (unseen.size) {
            for (const k of Object.keys(doc.meta)) if (seenKeys.size < 50) seenKeys.add(k);
            for (const [i, field] of unseen) if (metaValue(doc.meta, field) != null) unseen.delete(i);
          }
          return decide(doc, o);
        }),
      close: async () => {
        if (docs === 0 || unseen.size === 0) return;
        const [i, field] = [...unseen][0]!;
        const fields = [...seenKeys].sort().join(', ') || 'none';
        throw new RefineryError(
          `${ctx.keyPath}.options.where[${i}].field: no document of this shard (${docs} read) has meta.${field}; check the name (meta fields the documents have: ${fields}), or set missing: drop to drop documents without it on purpose`,
        );
      },
    };
  },
});

/** This module's stages, for the registry. */
export const stages = [selectStage];
