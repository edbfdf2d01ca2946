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
 * A numeric share s is met exactly when the data allow: its distance from s, |Σ_{b∈c} f_b − s|, is
 * priced at EXACT_PENALTY, far above any deviation cost, so the tolerance (s ± tolerance, a
 * constraint) is given up only where the targets cannot all be met exactly.
 * Every target (budget, shares, source limits) has a slack variable priced at SLACK_PENALTY, far
 * above the exactness price; a solution with non-zero slack is the closest feasible plan, and the
 * targets it misses are reported with their token shortfall.
 */
import GLPK, { type LP } from 'glpk.js/node';
import { RefineryError } from '../pipeline/errors.ts';
import { bucketId, isNonEnglish, type BucketCount, type BucketKey } from './bucket.ts';
import type { Census } from './census.ts';
import { NON_ENGLISH_SHARE_DEFAULT, shareRange, type MixConfig } from './mix-config.ts';
import { formatTokens, pct } from './figures.ts';

/** Price of one unit (the whole budget) of unmet target; deviations cost at most about 4 units. */
const SLACK_PENALTY = 1000;
/** Price of one unit of distance between a numeric share and its target, inside the tolerance. */
const EXACT_PENALTY = 100;
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
  /**
   * Set by the cut pass (mixes/sampler.ts) when rate has a fraction: documents whose seeded hash is
   * below `cut` get one copy more than floor(rate); `cut_docs` / `cut_tokens` are those documents
   * and their tokens, within one document of (rate − floor(rate)) × available_tokens.
   */
  cut?: number;
  cut_docs?: number;
  cut_tokens?: number;
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
  /** How the sampler draws the fractional copies: per-bucket hash cuts (exact) made with this seed, or per-document draws. */
  sampling?: { method: 'hash_cut' | 'per_document'; seed: number; note?: string };
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

export { formatTokens, pct };

interface Row {
  status: Omit<ConstraintStatus, 'planned_tokens' | 'shortfall_tokens' | 'binding' | 'message' | 'dual'>;
  members: number[];
  /** Bound as a fraction of the budget. */
  rhs: number;
  slack: boolean;
  /** A numeric share's target (on its `min` row): the plan is drawn to it, exactly where possible. */
  exact?: number;
}

/** The names of the LP's variables (columns) and constraints (rows), by what they stand for. */
const lpVar = {
  /** f_b: tokens drawn from bucket b / total_tokens. */
  draw: (b: number) => `f${b}`,
  /** Slack of target row k, priced at SLACK_PENALTY. */
  slack: (k: number) => `s${k}`,
  /** F_g = Σ_{b∈g} f_b. */
  groupShare: (g: number) => `F${g}`,
  /** D_g ≥ |F_g − P_g|. */
  groupDeviation: (g: number) => `D${g}`,
  /** d_b ≥ |f_b − q_b·F_g|. */
  bucketDeviation: (b: number) => `d${b}`,
  /** Σ_{b∈c} f_b − s = above − below, for a numeric share s of target k. */
  exactAbove: (k: number) => `ea${k}`,
  exactBelow: (k: number) => `eb${k}`,
};
const lpRow = {
  target: (k: number) => `t${k}`,
  totalMax: 'total_max',
  groupSum: (g: number) => `g${g}`,
  groupDeviationAbove: (g: number) => `gp${g}`,
  groupDeviationBelow: (g: number) => `gn${g}`,
  bucketDeviationAbove: (b: number) => `wp${b}`,
  bucketDeviationBelow: (b: number) => `wn${b}`,
  exact: (k: number) => `x${k}`,
};

/** The census's buckets with tokens, and what the LP needs to know of each (indexed alike). */
interface Problem {
  config: MixConfig;
  /** The budget, in tokens. */
  B: number;
  buckets: BucketCount[];
  /** Upper bound of f_b: max_epochs · available_b / B. */
  cap: number[];
  nonEn: boolean[];
  /** Reference weight: available tokens × quality weight. */
  weight: number[];
  weightTotal: number;
  /** Bucket indices of each group (category × English/non-English), groups in sorted order. */
  groupMembers: number[][];
  /** Categories with buckets or a share in the config, sorted. */
  categories: string[];
  /** Sources with buckets or limits in the config, sorted. */
  sources: string[];
}

let solver: ReturnType<typeof GLPK> | undefined;

export async function planMix(census: Census, config: MixConfig): Promise<MixPlan> {
  const glpk = await (solver ??= GLPK());
  const p = problemOf(census, config);
  const rows = targetRows(p);
  const out = glpk.solve(buildLp(glpk, p, rows), { msglev: glpk.GLP_MSG_OFF, rows: true });
  if (out.result.status !== glpk.GLP_OPT) throw new RefineryError(`the mix LP did not solve (GLPK status ${out.result.status})`);
  const v = (name: string) => out.result.vars[name] ?? 0;

  const B = p.B;
  const fx = p.buckets.map((_, i) => Math.max(0, Math.min(p.cap[i]!, v(lpVar.draw(i)))));
  const planned = fx.reduce((a, x) => a + x, 0);
  const constraints = [...targetStatuses(rows, fx, B, v, out.result.dual), ...epochCapStatuses(p, fx)];
  const between = p.groupMembers.reduce((a, _, g) => a + v(lpVar.groupDeviation(g)), 0);
  const within = p.buckets.reduce((a, _, i) => a + v(lpVar.bucketDeviation(i)), 0);
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
    shares: shareLines(p, fx),
    constraints,
    buckets: [...plannedBuckets(p, fx), ...emptyBuckets(census)].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)),
  };
  const violations = constraints.filter((c) => c.shortfall_tokens > 0);
  if (violations.length > 0) throw new MixInfeasibleError(violations, plan);
  return plan;
}

const epochsOf = (config: MixConfig, b: BucketKey) => config.sources[b.source]?.max_epochs ?? config.max_epochs;

function problemOf(census: Census, config: MixConfig): Problem {
  const B = config.total_tokens;
  const buckets = census.buckets.filter((b) => b.tokens > 0);
  if (buckets.length === 0) throw new RefineryError('the census has no buckets with tokens: nothing to plan');
  const nonEn = buckets.map((b) => isNonEnglish(b.language, b.category));
  const weight = buckets.map((b) => (config.quality_weights[b.quality_band] ?? 1) * b.tokens);
  const groupOf = buckets.map((b, i) => `${b.category}\u0000${nonEn[i] ? 'non_en' : 'en'}`);
  const groups = [...new Set(groupOf)].sort();
  const categories = [...new Set(buckets.map((b) => b.category))];
  for (const name of Object.keys(config.shares).filter((n) => n !== 'non_english').sort()) {
    if (!categories.includes(name)) categories.push(name);
  }
  categories.sort();
  return {
    config,
    B,
    buckets,
    cap: buckets.map((b) => (epochsOf(config, b) * b.tokens) / B),
    nonEn,
    weight,
    weightTotal: weight.reduce((a, b) => a + b, 0),
    groupMembers: groups.map((g) => buckets.map((_, i) => i).filter((i) => groupOf[i] === g)),
    categories,
    sources: [...new Set([...buckets.map((b) => b.source), ...Object.keys(config.sources)])].sort(),
  };
}

function indices(p: Problem, pred: (i: number) => boolean): number[] {
  return p.buckets.map((_, i) => i).filter(pred);
}

/** The targets: budget, category and non-English shares, per-source limits; each has a slack. */
function targetRows(p: Problem): Row[] {
  const { config, B } = p;
  const availableOf = (members: number[]) => members.reduce((a, i) => a + p.cap[i]! * B, 0);
  const rows: Row[] = [];
  const all = indices(p, () => true);
  rows.push({ status: { key: 'total_tokens', kind: 'total_tokens', bound: 'min', limit_tokens: B, available_tokens: Math.round(availableOf(all)) }, members: all, rhs: 1, slack: true });
  for (const name of p.categories) {
    const range = shareRange(config, name);
    if (!range) continue;
    const members = indices(p, (i) => p.buckets[i]!.category === name);
    addRange(rows, `shares.${name}`, 'category_share', range, members, availableOf(members), B, shareTarget(config, name));
  }
  const nonEnMembers = indices(p, (i) => p.nonEn[i]!);
  addRange(rows, 'shares.non_english', 'non_english_share', shareRange(config, 'non_english')!, nonEnMembers, availableOf(nonEnMembers), B, shareTarget(config, 'non_english'));
  for (const name of p.sources) {
    const lim = config.sources[name];
    if (!lim) continue;
    const members = indices(p, (i) => p.buckets[i]!.source === name);
    const avail = availableOf(members);
    const push = (key: string, bound: 'min' | 'max', tokens: number) =>
      rows.push({ status: { key: `sources.${name}.${key}`, kind: 'source', bound, limit_tokens: Math.round(tokens), available_tokens: Math.round(avail) }, members, rhs: tokens / B, slack: true });
    if (lim.min_tokens !== undefined) push('min_tokens', 'min', lim.min_tokens);
    if (lim.max_tokens !== undefined) push('max_tokens', 'max', lim.max_tokens);
    if (lim.min_share !== undefined) push('min_share', 'min', lim.min_share * B);
    if (lim.max_share !== undefined) push('max_share', 'max', lim.max_share * B);
  }
  return rows;
}

function buildLp(glpk: Awaited<ReturnType<typeof GLPK>>, p: Problem, rows: Row[]): LP {
  const draw = (i: number, coef: number) => ({ name: lpVar.draw(i), coef });
  const subjectTo: LP['subjectTo'] = [];
  const objective: { name: string; coef: number }[] = [];
  rows.forEach((r, k) => {
    const vars = r.members.map((i) => draw(i, 1));
    if (r.slack) {
      vars.push({ name: lpVar.slack(k), coef: r.status.bound === 'min' ? 1 : -1 });
      objective.push({ name: lpVar.slack(k), coef: SLACK_PENALTY });
    }
    subjectTo.push({
      name: lpRow.target(k),
      vars,
      bnds: r.status.bound === 'min' ? { type: glpk.GLP_LO, lb: r.rhs, ub: 0 } : { type: glpk.GLP_UP, lb: 0, ub: r.rhs },
    });
    if (r.exact !== undefined) {
      subjectTo.push({
        name: lpRow.exact(k),
        vars: [...r.members.map((i) => draw(i, 1)), { name: lpVar.exactAbove(k), coef: -1 }, { name: lpVar.exactBelow(k), coef: 1 }],
        bnds: { type: glpk.GLP_FX, lb: r.exact, ub: r.exact },
      });
      objective.push({ name: lpVar.exactAbove(k), coef: EXACT_PENALTY }, { name: lpVar.exactBelow(k), coef: EXACT_PENALTY });
    }
  });
  subjectTo.push({ name: lpRow.totalMax, vars: indices(p, () => true).map((i) => draw(i, 1)), bnds: { type: glpk.GLP_UP, lb: 0, ub: 1 } });
  p.groupMembers.forEach((members, g) => {
    const F = lpVar.groupShare(g);
    const D = lpVar.groupDeviation(g);
    const groupWeight = members.reduce((a, i) => a + p.weight[i]!, 0);
    const P = groupWeight / p.weightTotal;
    // F_g = Σ f_b (an explicit variable keeps every row below sparse).
    subjectTo.push({ name: lpRow.groupSum(g), vars: [{ name: F, coef: 1 }, ...members.map((i) => draw(i, -1))], bnds: { type: glpk.GLP_FX, lb: 0, ub: 0 } });
    subjectTo.push({ name: lpRow.groupDeviationAbove(g), vars: [{ name: D, coef: 1 }, { name: F, coef: -1 }], bnds: { type: glpk.GLP_LO, lb: -P, ub: 0 } });
    subjectTo.push({ name: lpRow.groupDeviationBelow(g), vars: [{ name: D, coef: 1 }, { name: F, coef: 1 }], bnds: { type: glpk.GLP_LO, lb: P, ub: 0 } });
    objective.push({ name: D, coef: 1 });
    if (members.length < 2) return;
    for (const i of members) {
      const q = p.weight[i]! / groupWeight;
      const d = lpVar.bucketDeviation(i);
      subjectTo.push({ name: lpRow.bucketDeviationAbove(i), vars: [{ name: d, coef: 1 }, draw(i, -1), { name: F, coef: q }], bnds: { type: glpk.GLP_LO, lb: 0, ub: 0 } });
      subjectTo.push({ name: lpRow.bucketDeviationBelow(i), vars: [{ name: d, coef: 1 }, draw(i, 1), { name: F, coef: -q }], bnds: { type: glpk.GLP_LO, lb: 0, ub: 0 } });
      objective.push({ name: d, coef: 1 });
    }
  });
  return {
    name: 'mix',
    objective: { direction: glpk.GLP_MIN, name: 'deviation', vars: objective },
    subjectTo,
    bounds: p.buckets.map((_, i) => ({ name: lpVar.draw(i), type: glpk.GLP_DB, lb: 0, ub: p.cap[i]! })),
  };
}

/** Each target as planned: met, binding, or short (its slack is used). */
function targetStatuses(rows: Row[], fx: number[], B: number, v: (name: string) => number, duals: Record<string, number> | undefined): ConstraintStatus[] {
  return rows.map((r, k) => {
    const value = r.members.reduce((a, i) => a + fx[i]!, 0);
    const slack = r.slack ? v(lpVar.slack(k)) : 0;
    const gap = r.status.bound === 'min' ? r.rhs - value : value - r.rhs;
    const shortfall = slack > EPS ? Math.max(0, gap) * B : 0;
    const binding = Math.abs(gap) <= 1e-7;
    const dual = duals?.[lpRow.target(k)];
    return {
      ...r.status,
      planned_tokens: Math.round(value * B),
      shortfall_tokens: Math.round(shortfall),
      binding: binding || shortfall > 0,
      ...(dual !== undefined && dual !== 0 ? { dual } : {}),
      message: constraintMessage(r, value * B, shortfall, B),
    };
  });
}

/** The buckets drawn at their epoch cap. */
function epochCapStatuses(p: Problem, fx: number[]): ConstraintStatus[] {
  const out: ConstraintStatus[] = [];
  p.buckets.forEach((b, i) => {
    const cap = p.cap[i]!;
    if (cap > 0 && fx[i]! >= cap * (1 - 1e-9)) {
      const tokens = cap * p.B;
      out.push({
        key: p.config.sources[b.source]?.max_epochs !== undefined ? `sources.${b.source}.max_epochs` : 'max_epochs',
        kind: 'epochs',
        bound: 'max',
        limit_tokens: Math.round(tokens),
        planned_tokens: Math.round(tokens),
        available_tokens: Math.round(tokens),
        shortfall_tokens: 0,
        binding: true,
        message: `bucket ${bucketId(b)} is drawn at its cap of ${epochsOf(p.config, b)} epochs (${formatTokens(tokens)} tokens)`,
      });
    }
  });
  return out;
}

function shareLines(p: Problem, fx: number[]): MixPlan['shares'] {
  const { B, buckets, config } = p;
  const planned = fx.reduce((a, x) => a + x, 0);
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
  const category: Record<string, ShareLine> = {};
  for (const c of p.categories) category[c] = shareLine(indices(p, (i) => buckets[i]!.category === c), shareRange(config, c));
  const source: Record<string, ShareLine & { epochs: number }> = {};
  for (const s of p.sources) {
    const line = shareLine(indices(p, (i) => buckets[i]!.source === s));
    source[s] = { ...line, epochs: line.available_tokens > 0 ? line.planned_tokens / line.available_tokens : 0 };
  }
  return { category, non_english: shareLine(indices(p, (i) => p.nonEn[i]!), shareRange(config, 'non_english')!), source };
}

function plannedBuckets(p: Problem, fx: number[]): PlannedBucket[] {
  const planned = fx.reduce((a, x) => a + x, 0);
  return p.buckets.map((b, i) => {
    const tokens = fx[i]! * p.B;
    return {
      ...pickKey(b),
      id: bucketId(b),
      non_english: p.nonEn[i]!,
      available_docs: b.docs,
      available_tokens: b.tokens,
      max_epochs: epochsOf(p.config, b),
      tokens: Math.round(tokens),
      rate: tokens / b.tokens,
      share: planned > 0 ? fx[i]! / planned : 0,
    };
  });
}

/** Documents without tokens change no share: they pass through once, so the sampler knows them. */
function emptyBuckets(census: Census): PlannedBucket[] {
  return census.buckets
    .filter((b) => b.tokens <= 0)
    .map((b) => ({ ...pickKey(b), id: bucketId(b), non_english: isNonEnglish(b.language, b.category), available_docs: b.docs, available_tokens: 0, max_epochs: 0, tokens: 0, rate: 1, share: 0 }));
}

/** A numeric share's target, or undefined for a range (`{min, max}`) or an unlisted category. */
function shareTarget(config: MixConfig, name: string): number | undefined {
  const s = name === 'non_english' ? (config.shares.non_english ?? NON_ENGLISH_SHARE_DEFAULT) : config.shares[name];
  return typeof s === 'number' ? s : undefined;
}

function addRange(rows: Row[], key: string, kind: ConstraintKind, range: { min: number; max: number }, members: number[], available: number, B: number, exact?: number): void {
  // The exactness term rides on one row of the pair (the min row, else the max row).
  const target = exact === undefined ? {} : { exact };
  if (range.min > 0) rows.push({ status: { key, kind, bound: 'min', limit_tokens: Math.round(range.min * B), available_tokens: Math.round(available) }, members, rhs: range.min, slack: true, ...target });
  if (range.max < 1) rows.push({ status: { key, kind, bound: 'max', limit_tokens: Math.round(range.max * B), available_tokens: Math.round(available) }, members, rhs: range.max, slack: true, ...(range.min > 0 ? {} : target) });
  if (range.min <= 0 && range.max >= 1 && exact !== undefined) rows.push({ status: { key, kind, bound: 'min', limit_tokens: 0, available_tokens: Math.round(available) }, members, rhs: 0, slack: false, exact });
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
