/**
 * Per-document option overrides: a stage entry's `overrides: [{when: {language: de}, options: {...}}]`.
 * The runner creates one stage per distinct option set and sends each document to the stage of
 * the first override whose `when` matches its meta, else to the base stage.
 */
import type { Doc } from '../doc.ts';
import type { DocStage, Verdict } from '../stage.ts';

export type WhenValue = string | number | boolean | null;
/** Meta field → the value it must equal, or a list of values it must equal one of. Every field must match. */
export type When = Record<string, WhenValue | WhenValue[]>;

/** A meta field by its key, or by a dotted path into nested objects (`langid.language`) when no key is named so. */
function metaField(meta: Record<string, unknown>, field: string): unknown {
  if (field in meta) return meta[field];
  let v: unknown = meta;
  for (const part of field.split('.')) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

export function matchesWhen(meta: Record<string, unknown>, when: When): boolean {
  return Object.entries(when).every(([field, expected]) => {
    const actual = metaField(meta, field);
    return Array.isArray(expected) ? expected.some((e) => e === actual) : expected === actual;
  });
}

/**
 * Which options judged a document: `meta.<stage>.judged_by = "overrides[j]"` (the stage's name with
 * `_` for `-`: the object where it records its measurements, as `mode: annotate` records
 * `would_drop`), so that inspect and the report show the threshold the document was held to.
 * Nothing is written for a document the base options judged, nor where that meta field holds
 * something other than an object.
 */
function recordJudgedBy(d: Doc, stage: string, override: number): void {
  if (override < 0) return;
  const key = stage.replace(/-/g, '_');
  const own = d.meta[key];
  if (own === undefined) d.meta[key] = { judged_by: `overrides[${override}]` };
  else if (own !== null && typeof own === 'object' && !Array.isArray(own)) (own as Record<string, unknown>).judged_by = `overrides[${override}]`;
}

/**
 * One stage that routes each document to `variants[j].stage` for the first `when` it matches,
 * else to `base`; verdicts come back in the documents' order. Counted under the base's name.
 */
export function routeByOverrides(base: DocStage, variants: { when: When; stage: DocStage }[]): DocStage {
  const instances = [...new Set([base, ...variants.map((v) => v.stage)])];
  const batchSize = Math.max(...instances.map((s) => s.batchSize ?? 1));
  return {
    kind: base.kind,
    name: base.name,
    ...(batchSize > 1 ? { batchSize } : {}),
    async process(docs: Doc[]): Promise<Verdict[]> {
      const groups = new Map<DocStage, number[]>();
      const judgedBy: number[] = [];
      docs.forEach((d, i) => {
        const j = variants.findIndex((v) => matchesWhen(d.meta, v.when));
        judgedBy[i] = j;
        const stage = variants[j]?.stage ?? base;
        const at = groups.get(stage);
        if (at) at.push(i);
        else groups.set(stage, [i]);
      });
      const verdicts: Verdict[] = new Array<Verdict>(docs.length);
      for (const [stage, positions] of groups) {
        const got = await stage.process(positions.map((i) => docs[i]!));
        if (got.length !== positions.length) throw new Error(`stage ${stage.name} returned ${got.length} verdicts for ${positions.length} documents`);
        positions.forEach((p, k) => (verdicts[p] = got[k]!));
      }
      docs.forEach((d, i) => recordJudgedBy(d, base.name, judgedBy[i] ?? -1));
      return verdicts;
    },
    async close() {
      for (const s of instances) await s.close?.();
    },
  };
}
