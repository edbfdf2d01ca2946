/** `mix.yaml`: what the planner must meet. Every key is documented in docs/mixes.md. */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../pipeline/errors.ts';

const SUFFIX: Record<string, number> = { K: 1e3, M: 1e6, B: 1e9, G: 1e9, T: 1e12, P: 1e15 };

/** A token count: a number, or a string such as `15T`, `500B`, `2.5e9`. */
export const tokenCount = z.union([
  z.number().positive(),
  z.string().regex(/^\s*[0-9.]+(e[0-9]+)?\s*[KMBGTP]?\s*$/i, 'a token count such as 15T, 500B or 2.5e9').transform((s) => {
    const m = /^\s*([0-9.]+(?:e[0-9]+)?)\s*([KMBGTP]?)\s*$/i.exec(s)!;
    return Number(m[1]) * (m[2] ? SUFFIX[m[2].toUpperCase()]! : 1);
  }),
]);

const fraction = z.number().min(0).max(1);

/** Llama 3 release announcement (April 2024): "over 5% ... high-quality non-English data"; `shares.non_english` overrides it. */
export const NON_ENGLISH_SHARE_DEFAULT = 0.05;

/** A share: a target (met within `tolerance`) or an explicit range. */
const share = z.union([fraction, z.object({ min: fraction.default(0), max: fraction.default(1) })]);

const sourceLimits = z.strictObject({
  min_tokens: tokenCount.optional(),
  max_tokens: tokenCount.optional(),
  min_share: fraction.optional(),
  max_share: fraction.optional(),
  /** Overrides the global `max_epochs` for this source's buckets. */
  max_epochs: z.number().min(0).optional(),
});

export const mixConfigSchema = z.strictObject({
  /** Tokens the plan must draw in total (Llama 3: 15T). */
  total_tokens: tokenCount,
  /** Category → share of `total_tokens`; `non_english` is the share of tokens in non-English languages. */
  shares: z.record(z.string(), share).default({}),
  /** Absolute tolerance around each share target (0.005 = ±0.5 percentage points). */
  tolerance: fraction.default(0.005),
  /** Muennighoff et al. 2023, "Scaling Data-Constrained Language Models": up to ~4 epochs cost little. */
  max_epochs: z.number().min(0).default(4),
  /** Quality band → weight of that band in the reference distribution (e.g. `high: 2` for 2x). */
  quality_weights: z.record(z.string(), z.number().positive()).default({}),
  /** Per-source limits. */
  sources: z.record(z.string(), sourceLimits).default({}),
});

export type MixConfig = z.output<typeof mixConfigSchema>;
export type MixConfigInput = z.input<typeof mixConfigSchema>;

/** Validates a parsed config; errors name the key path. */
export function parseMixConfig(value: unknown, file = 'mix.yaml'): MixConfig {
  const parsed = mixConfigSchema.safeParse(value ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      throw new ConfigError(file, [...path, issue.keys[0]!].join('.'), 'unknown key (see docs/mixes.md for the keys of mix.yaml)');
    }
    throw new ConfigError(file, path.join('.'), issue.message);
  }
  const config = parsed.data;
  let listed = 0;
  for (const [name, s] of Object.entries(config.shares)) {
    if (typeof s !== 'number' && s.min > s.max) throw new ConfigError(file, `shares.${name}`, `min ${s.min} is above max ${s.max}`);
    if (name !== 'non_english') listed += typeof s === 'number' ? s : s.min;
  }
  if (listed > 1 + 1e-9) throw new ConfigError(file, 'shares', `category shares add up to ${listed.toFixed(4)}, more than 1`);
  for (const [name, s] of Object.entries(config.sources)) {
    if (s.min_tokens !== undefined && s.max_tokens !== undefined && s.min_tokens > s.max_tokens) {
      throw new ConfigError(file, `sources.${name}`, 'min_tokens is above max_tokens');
    }
    if (s.min_share !== undefined && s.max_share !== undefined && s.min_share > s.max_share) {
      throw new ConfigError(file, `sources.${name}`, 'min_share is above max_share');
    }
  }
  return config;
}

export async function loadMixConfig(path: string): Promise<MixConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ConfigError(path, '', 'cannot read the file');
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new ConfigError(path, '', `not valid YAML: ${(e as Error).message}`);
  }
  return parseMixConfig(value, path);
}

/** The [min, max] share range of a named share after the tolerance, or undefined when not constrained. */
export function shareRange(config: MixConfig, name: string): { min: number; max: number } | undefined {
  const s = name === 'non_english' ? (config.shares.non_english ?? NON_ENGLISH_SHARE_DEFAULT) : config.shares[name];
  if (s === undefined) return undefined;
  if (typeof s === 'number') return { min: Math.max(0, s - config.tolerance), max: Math.min(1, s + config.tolerance) };
  return { min: s.min, max: s.max };
}
