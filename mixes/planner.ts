/**
 * The mix planner: a linear program (GLPK via glpk.js) that decides how many tokens to draw from
 * every bucket so that the budget, the category and non-English shares, the per-source limits and
 * the epoch caps hold, and that otherwise stays closest to the natural distribution.
 *
 * Variables are fractions of the budget: f_b = tokens drawn from bucket b / total_tokens, with
 * 0 ≤ f_b ≤ max_epochs · available_b / total_tokens (the epoch cap is never relaxed).
 * Buckets form groups (category × English/non-English). The reference distribution weighs each
 * bucket's available tokens by its quality band's weight (`quality_weights`, default 1). The
 * objective is the sum of two L1 deviations, made linear with auxiliary variables:
 *   between groups: Σ_g |F_g − P_g|, F_g = Σ_{b∈g} f_b, P_g = the group's reference share;
 *   within groups:  Σ_b |f_b − q_b · F_g|, q_b = the bucket's reference share inside its group.
 * So when constraints leave room every group keeps its natural share, and inside a group every
 * bucket is drawn at the same (quality-weighted) rate unless a cap or a source limit says no.
 * Every target (budget, shares, source limits) has a slack variable priced at SLACK_PENALTY, far
 * above any deviation cost; a solution with non-zero slack is the closest feasible plan, and the
 * targets it misses are reported with their token shortfall.
 */
import GLPK, { type LP } from 'glpk.js/node';
import { RefineryError } from '../pipeline/errors.ts';
import { bucketId, isNonEnglish, type BucketKey } from './bucket.ts';
import type { Census } from './census.ts';
import { shareRange, type MixConfig } from './mix-config.ts';

/** Price of one unit (the whole budget) of unmet target; deviations cost at most about 4 units. */
const SLACK_PENALTY = 1000;
/** Below this (in fractions of the budget, i.e. 1e-9 = 15k tokens of 15T) a slack counts as zero. */
const EPS = 1e-9;

export interface PlannedBucket extends BucketKey {
  id: string;
  non_english: boolean;
  available_docs: number;
  available_tokens: number;
  max_epochs: number;
  /** Tokens to draw (rounded). */
  tokens: number;
  /** Copies per document on average: tokens / available_tokens; above 1 means repeats. */
  rate: number;
  share: number;
}

export type ConstraintKind = 'total_tokens' | 'category_share' | 'non_english_share' | 'source' | 'epochs';

export interface ConstraintStatus {
  /** The config key it comes from, e.g. `shares.code`, `sources.wiki.max_tokens`, `max_epochs`. */
  key: string;
  kind: ConstraintKind;
  bound: 'min' | 'max';
  /** The bound, in tokens. */
  limit_tokens: number;
  /** What the plan achieves, in tokens. */
  planned_tokens: number;
  /** What the constrained set of buckets could give at most (its epoch caps), in tokens. */
  available_tokens: number;
  /** Tokens missing (min) or in excess (max); 0 when met. */
  shortfall_tokens: number;
  binding: boolean;
  /** Change of the objective per unit of budget fraction if the bound moved (GLPK dual value). */
  dual?: number;
  message: string;
}

export interface ShareLine {
  natural: number;
  planned: number;
  min?: number;
  max?: number;
  available_tokens: number;
  planned_tokens: number;
}

export interface MixPlan {
  version: 1;
  status: 'optimal' | 'relaxed';
  total_tokens: number;
  planned_tokens: number;
  config: MixConfig;
  objective: {
    description: string;
    between_groups: number;
    within_groups: number;
  };
  shares: {
    category: Record<string, ShareLine>;
    non_english: ShareLine;
    source: Record<string, ShareLine & { epochs: number }>;
  };
  constraints: ConstraintStatus[];
  buckets: PlannedBucket[];
}

export class MixInfeasibleError extends RefineryError {
  override name = 'MixInfeasibleError';
  constructor(
    readonly violations: ConstraintStatus[],
    readonly closest: MixPlan,
  ) {
    super(
      `the mix targets cannot all be met:\n${violations.map((v) => `  - ${v.message}`).join('\n')}\n` +
        `closest feasible plan: ${describeShares(closest)}`,
    );
  }
}

export function describeShares(plan: MixPlan): string {
  const parts = Object.entries(plan.shares.category).map(([c, s]) => `${c} ${pct(s.planned)}`);
  parts.push(`non-English ${pct(plan.shares.non_english.planned)}`);
  return `${formatTokens(plan.planned_tokens)} tokens: ${parts.join(', ')}`;
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

export function formatTokens(n: number): string {
  const abs = Math.abs(n);
  for (const [unit, v] of [['T', 1e12], ['B', 1e9], ['M', 1e6], ['K', 1e3]] as const) {
    if (abs >= v) {
      const fixed = (n / v).toFixed(abs >= 100 * v ? 0 : 2);
      return `${fixed.includes('.') ? fixed.replace(/\.?0+$/, '') : fixed}${unit}`;
    }
  }
  return String(Math.round(n));
}

interface Row {
  status: Omit<ConstraintStatus, 'planned_tokens' | 'shortfall_tokens' | 'binding' | 'message' | 'dual'>;
  members: number[];
  /** Bound as a fraction of the budget. */
  rhs: number;
  slack: boolean;
}

let solver: ReturnType<typeof GLPK> | undefined;

export async function planMix(census: Census, config: MixConfig): Promise<MixPlan> {
  const glpk = await (solver ??= GLPK());
  const B = config.total_tokens;
  const buckets = census.buckets.filter((b) => b.tokens > 0);
  // Documents without tokens change no share: they pass through once, so the sampler knows them.
  const emptyBuckets: PlannedBucket[] = census.buckets
    .filter((b) => b.tokens <= 0)
    .map((b) => ({ ...pickKey(b), id: bucketId(b), non_english: isNonEnglish(b.language, b.category), available_docs: b.docs, available_tokens: 0, max_epochs: 0, tokens: 0, rate: 1, share: 0 }));
  if (buckets.length === 0) throw new RefineryError('the census has no buckets with tokens: nothing to plan');

  const epochsOf = (b: BucketKey) => config.sources[b.source]?.max_epochs ?? config.max_epochs;
  const cap = buckets.map((b) => (epochsOf(b) * b.tokens) / B);
  const nonEn = buckets.map((b) => isNonEnglish(b.language, b.category));
  const weight = buckets.map((b) => (config.quality_weights[b.quality_band] ?? 1) * b.tokens);
  const weightTotal = weight.reduce((a, b) => a + b, 0);

  const groupOf = buckets.map((b, i) => `${b.category}\u0000${nonEn[i] ? 'non_en' : 'en'}`);
  const groups = [...new Set(groupOf)].sort();
  const groupMembers = groups.map((g) => buckets.map((_, i) => i).filter((i) => groupOf[i] === g));

  const indices = (pred: (i: number) => boolean) => buckets.map((_, i) => i).filter(pred);
  const availableOf = (members: number[]) => members.reduce((a, i) => a + cap[i]! * B, 0);

  // Targets.
  const rows: Row[] = [];
  const all = indices(() => true);
  rows.push({ status: { key: 'total_tokens', kind: 'total_tokens', bound: 'min', limit_tokens: B, available_tokens: Math.round(availableOf(all)) }, members: all, rhs: 1, slack: true });
  const categories = [...new Set(buckets.map((b) => b.category))];
  for (const name of Object.keys(config.shares).filter((n) => n !== 'non_english').sort()) {
    if (!categories.includes(name)) categories.push(name);
  }
  categories.sort();
  for (const name of categories) {
    const range = shareRange(config, name);
    if (!range) continue;
    const members = indices((i) => buckets[i]!.category === name);
    addRange(rows, `shares.${name}`, 'category_share', range, members, availableOf(members), B);
  }
  const nonEnMembers = indices((i) => nonEn[i]!);
  const nonEnRange = shareRange(config, 'non_english')!;
  addRange(rows, 'shares.non_english', 'non_english_share', nonEnRange, nonEnMembers, availableOf(nonEnMembers), B);
  const sources = [...new Set([...buckets.map((b) => b.source), ...Object.keys(config.sources)])].sort();
  for (const name of sources) {
    const lim = config.sources[name];
    if (!lim) continue;
    const members = indices((i) => buckets[i]!.source === name);
    const avail = availableOf(members);
    const push = (key: string, bound: 'min' | 'max', tokens: number) =>
      rows.push({ status: { key: `sources.${name}.${key}`, kind: 'source', bound, limit_tokens: Math.round(tokens), available_tokens: Math.round(avail) }, members, rhs: tokens / B, slack: true });
    if (lim.min_tokens !== undefined) push('min_tokens', 'min', lim.min_tokens);
    if (lim.max_tokens !== undefined) push('max_tokens', 'max', lim.max_tokens);
    if (lim.min_share !== undefined) push('min_share', 'min', lim.min_share * B);
    if (lim.max_share !== undefined) push('max_share', 'max', lim.max_share * B);
  }

  // The LP.
  const f = (i: number) => `f${i}`;
  const subjectTo: LP['subjectTo'] = [];
  const objective: { name: string; coef: number }[] = [];
  rows.forEach((r, k) => {
    const vars = r.members.map((i) => ({ name: f(i), coef: 1 }));
    if (r.slack) {
      vars.push({ name: `s${k}`, coef: r.status.bound === 'min' ? 1 : -1 });
      objective.push({ name: `s${k}`, coef: SLACK_PENALTY });
    }
    subjectTo.push({
      name: `t${k}`,
      vars,
      bnds: r.status.bound === 'min' ? { type: glpk.GLP_LO, lb: r.rhs, ub: 0 } : { type: glpk.GLP_UP, lb: 0, ub: r.rhs },
    });
  });
  subjectTo.push({ name: 'total_max', vars: all.map((i) => ({ name: f(i), coef: 1 })), bnds: { type: glpk.GLP_UP, lb: 0, ub: 1 } });
  groupMembers.forEach((members, g) => {
    const groupWeight = members.reduce((a, i) => a + weight[i]!, 0);
    const P = groupWeight / weightTotal;
    // F_g = Σ f_b (an explicit variable keeps every row below sparse).
    subjectTo.push({ name: `g${g}`, vars: [{ name: `F${g}`, coef: 1 }, ...members.map((i) => ({ name: f(i), coef: -1 }))], bnds: { type: glpk.GLP_FX, lb: 0, ub: 0 } });
    // D_g ≥ |F_g − P_g|
    subjectTo.push({ name: `gp${g}`, vars: [{ name: `D${g}`, coef: 1 }, { name: `F${g}`, coef: -1 }], bnds: { type: glpk.GLP_LO, lb: -P, ub: 0 } });
    subjectTo.push({ name: `gn${g}`, vars: [{ name: `D${g}`, coef: 1 }, { name: `F${g}`, coef: 1 }], bnds: { type: glpk.GLP_LO, lb: P, ub: 0 } });
    objective.push({ name: `D${g}`, coef: 1 });
    if (members.length < 2) return;
    for (const i of members) {
      const q = weight[i]! / groupWeight;
      // d_b ≥ |f_b − q_b·F_g|
      subjectTo.push({ name: `wp${i}`, vars: [{ name: `d${i}`, coef: 1 }, { name: f(i), coef: -1 }, { name: `F${g}`, coef: q }], bnds: { type: glpk.GLP_LO, lb: 0, ub: 0 } });
      subjectTo.push({ name: `wn${i}`, vars: [{ name: `d${i}`, coef: 1 }, { name: f(i), coef: 1 }, { name: `F${g}`, coef: -q }], bnds: { type: glpk.GLP_LO, lb: 0, ub: 0 } });
      objective.push({ name: `d${i}`, coef: 1 });
    }
  });
  const lp: LP = {
    name: 'mix',
    objective: { direction: glpk.GLP_MIN, name: 'deviation', vars: objective },
    subjectTo,
    bounds: buckets.map((_, i) => ({ name: f(i), type: glpk.GLP_DB, lb: 0, ub: cap[i]! })),
  };
  const out = glpk.solve(lp, { msglev: glpk.GLP_MSG_OFF, rows: true });
  if (out.result.status !== glpk.GLP_OPT) throw new RefineryError(`the mix LP did not solve (GLPK status ${out.result.status})`);
  const v = (name: string) => out.result.vars[name] ?? 0;

  // Read the solution back.
  const fx = buckets.map((_, i) => Math.max(0, Math.min(cap[i]!, v(f(i)))));
  const planned = fx.reduce((a, x) => a + x, 0);
  const plannedBuckets: PlannedBucket[] = buckets.map((b, i) => {
    const tokens = fx[i]! * B;
    return {
      ...pickKey(b),
      id: bucketId(b),
      non_english: nonEn[i]!,
      available_docs: b.docs,
      available_tokens: b.tokens,
      max_epochs: epochsOf(b),
      tokens: Math.round(tokens),
      rate: tokens / b.tokens,
      share: planned > 0 ? fx[i]! / planned : 0,
    };
  });

  const constraints: ConstraintStatus[] = rows.map((r, k) => {
    const value = r.members.reduce((a, i) => a + fx[i]!, 0);
    const slack = r.slack ? v(`s${k}`) : 0;
    const gap = r.status.bound === 'min' ? r.rhs - value : value - r.rhs;
    const shortfall = slack > EPS ? Math.max(0, gap) * B : 0;
    const binding = Math.abs(gap) <= 1e-7;
    const dual = out.result.dual?.[`t${k}`];
    return {
      ...r.status,
      planned_tokens: Math.round(value * B),
      shortfall_tokens: Math.round(shortfall),
      binding: binding || shortfall > 0,
      ...(dual !== undefined && dual !== 0 ? { dual } : {}),
      message: constraintMessage(r, value * B, shortfall, B),
    };
  });
  buckets.forEach((b, i) => {
    if (cap[i]! > 0 && fx[i]! >= cap[i]! * (1 - 1e-9)) {
      const tokens = cap[i]! * B;
      constraints.push({
        key: config.sources[b.source]?.max_epochs !== undefined ? `sources.${b.source}.max_epochs` : 'max_epochs',
        kind: 'epochs',
        bound: 'max',
        limit_tokens: Math.round(tokens),
        planned_tokens: Math.round(tokens),
        available_tokens: Math.round(tokens),
        shortfall_tokens: 0,
        binding: true,
        message: `bucket ${bucketId(b)} is drawn at its cap of ${epochsOf(b)} epochs (${formatTokens(tokens)} tokens)`,
      });
    }
  });

  const naturalTotal = buckets.reduce((a, b) => a + b.tokens, 0);
  const shareLine = (members: number[], range?: { min: number; max: number }): ShareLine => {
    const plannedTokens = members.reduce((a, i) => a + fx[i]!, 0) * B;
    return {
      natural: members.reduce((a, i) => a + buckets[i]!.tokens, 0) / naturalTotal,
      planned: planned > 0 ? plannedTokens / (planned * B) : 0,
      ...(range ? range : {}),
      available_tokens: Math.round(members.reduce((a, i) => a + buckets[i]!.tokens, 0)),
      planned_tokens: Math.round(plannedTokens),
    };
  };
  const categoryShares: Record<string, ShareLine> = {};
  for (const c of categories) categoryShares[c] = shareLine(indices((i) => buckets[i]!.category === c), shareRange(config, c));
  const sourceShares: Record<string, ShareLine & { epochs: number }> = {};
  for (const s of sources) {
    const members = indices((i) => buckets[i]!.source === s);
    const line = shareLine(members);
    sourceShares[s] = { ...line, epochs: line.available_tokens > 0 ? line.planned_tokens / line.available_tokens : 0 };
  }

  const between = groups.reduce((a, _, g) => a + v(`D${g}`), 0);
  const within = buckets.reduce((a, _, i) => a + v(`d${i}`), 0);
  const plan: MixPlan = {
    version: 1,
    status: constraints.some((c) => c.shortfall_tokens > 0) ? 'relaxed' : 'optimal',
    total_tokens: B,
    planned_tokens: Math.round(planned * B),
    config,
    objective: {
      description:
        'minimise Σ_groups |planned share − reference share| + Σ_buckets |planned share − reference share within its group × group share|; groups are category × English/non-English; the reference is available tokens × quality weight',
      between_groups: round6(between),
      within_groups: round6(within),
    },
    shares: { category: categoryShares, non_english: shareLine(nonEnMembers, nonEnRange), source: sourceShares },
    constraints,
    buckets: [...plannedBuckets, ...emptyBuckets].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
  const violations = constraints.filter((c) => c.shortfall_tokens > 0);
  if (violations.length > 0) throw new MixInfeasibleError(violations, plan);
  return plan;
}

function addRange(rows: Row[], key: string, kind: ConstraintKind, range: { min: number; max: number }, members: number[], available: number, B: number): void {
  if (range.min > 0) rows.push({ status: { key, kind, bound: 'min', limit_tokens: Math.round(range.min * B), available_tokens: Math.round(available) }, members, rhs: range.min, slack: true });
  if (range.max < 1) rows.push({ status: { key, kind, bound: 'max', limit_tokens: Math.round(range.max * B), available_tokens: Math.round(available) }, members, rhs: range.max, slack: true });
}

function constraintMessage(r: Row, plannedTokens: number, shortfall: number, B: number): string {
  const s = r.status;
  const what = s.kind === 'category_share' || s.kind === 'non_english_share' ? `${pct(r.rhs)} of ${formatTokens(B)} = ${formatTokens(s.limit_tokens)} tokens` : `${formatTokens(s.limit_tokens)} tokens`;
  if (shortfall <= 0) return `${s.key}: ${s.bound === 'min' ? 'at least' : 'at most'} ${what}; planned ${formatTokens(plannedTokens)}`;
  if (s.bound === 'min') {
    const why =
      s.available_tokens < s.limit_tokens
        ? `only ${formatTokens(s.available_tokens)} tokens exist even at the epoch cap`
        : `the other constraints leave only ${formatTokens(plannedTokens)}`;
    return `${s.key}: needs at least ${what}, but ${why}; short by ${formatTokens(shortfall)} tokens`;
  }
  return `${s.key}: allows at most ${what}, but the other constraints need ${formatTokens(plannedTokens)}; over by ${formatTokens(shortfall)} tokens`;
}

function pickKey(b: BucketKey): BucketKey {
  return { source: b.source, category: b.category, language: b.language, quality_band: b.quality_band };
}

function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
