/**
 * Hyper-parameter search for `refinery classify train`, after fastText's `-autotune-validation`:
 * epochs, learning rate, word n-grams and dimension are tried on the train split and scored on
 * the validation split; the test split is never seen.
 *
 * Deterministic for a seed, on any machine: the candidates are a seeded sequence (the starting
 * settings, then seeded random draws over the space, then seeded mutations of the best so far),
 * and the budget is counted in work, not measured in time: every candidate costs an estimate of
 * its SGD updates (epochs × dim × the train split's feature count, plus initialisation and the
 * validation pass), and `seconds` is converted at a fixed rate, REFERENCE_UPDATES_PER_SECOND.
 * A candidate that would overrun what is left of the budget is skipped (cheaper ones may still
 * fit); the search ends after SKIPS_TO_STOP skips in a row. A slower machine takes longer and
 * finds the same model.
 */
import type { FastTextModel } from './model.ts';
import { SeededRandom } from '../../pipeline/seeded-random.ts';

/** The settings the search may change, each unless the user fixed it. */
export interface TunedSettings {
  epochs: number;
  lr: number;
  word_ngrams: number;
  dim: number;
}
export const TUNED_KEYS = ['epochs', 'lr', 'word_ngrams', 'dim'] as const;

/**
 * Embedding-row updates per second that one reference-second of budget buys: about what one
 * unloaded core does training this model in Node 20 (bench/classifiers.bench.ts measures training
 * speed; docs/classifiers.md gives loaded and unloaded figures).
 */
export const REFERENCE_UPDATES_PER_SECOND = 100e6;
/** Candidates never exceed this, however small the data (tiny sets would otherwise try hundreds). */
export const MAX_TRIALS = 48;
/** Random draws over the whole space before the search mutates the best candidate. */
const EXPLORE_TRIALS = 8;
/** Candidates in a row that do not fit in the rest of the budget before the search ends. */
const SKIPS_TO_STOP = 10;

const SPACE = {
  epochs: [2, 100],
  lr: [0.05, 2],
  word_ngrams: [1, 2, 3],
  dim: [8, 16, 32, 64],
} as const;

export interface AutotuneTrial {
  settings: TunedSettings;
  /** Validation objective (higher is better). */
  objective: number;
  /** Estimated SGD updates. */
  cost: number;
}

export interface AutotuneResult {
  best: TunedSettings;
  bestObjective: number;
  /** Objective of the starting settings (the defaults, with the user's fixed values). */
  startObjective: number;
  trials: AutotuneTrial[];
  budgetUpdates: number;
  usedUpdates: number;
  /** Why the search ended. */
  stopped: 'budget' | 'max_trials' | 'space_exhausted';
}

export interface AutotuneInput {
  start: TunedSettings;
  /** Keys the user gave: never changed. */
  fixed: ReadonlySet<keyof TunedSettings>;
  seconds: number;
  seed: number;
  buckets: number;
  /** Sum of feature counts of the train split and of the validation split for a word n-gram order. */
  featureCounts: (wordNgrams: number) => { train: number; valid: number };
  /** Trains a model with these settings on the train split. */
  train: (settings: TunedSettings) => FastTextModel;
  /** The model's validation objective (higher is better). */
  score: (model: FastTextModel, settings: TunedSettings) => number;
}

export function settingsKey(s: TunedSettings): string {
  return `${s.epochs}/${s.lr}/${s.word_ngrams}/${s.dim}`;
}

/** Estimated SGD updates of one candidate: training, initialisation and the validation pass. */
export function candidateCost(s: TunedSettings, buckets: number, counts: { train: number; valid: number }): number {
  return s.epochs * s.dim * counts.train + buckets * s.dim + s.dim * counts.valid;
}

/** Learning rates are rounded to 3 significant digits, so that card.json stays readable. */
function roundLr(x: number): number {
  return Number(x.toPrecision(3));
}

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function logUniform(rng: SeededRandom, lo: number, hi: number): number {
  return Math.exp(Math.log(lo) + rng.next() * (Math.log(hi) - Math.log(lo)));
}

function randomSettings(rng: SeededRandom, start: TunedSettings, fixed: ReadonlySet<keyof TunedSettings>): TunedSettings {
  const epochs = Math.round(logUniform(rng, SPACE.epochs[0], SPACE.epochs[1]));
  const lr = roundLr(logUniform(rng, SPACE.lr[0], SPACE.lr[1]));
  const word_ngrams = SPACE.word_ngrams[rng.int(SPACE.word_ngrams.length)]!;
  const dim = SPACE.dim[rng.int(SPACE.dim.length)]!;
  return {
    epochs: fixed.has('epochs') ? start.epochs : epochs,
    lr: fixed.has('lr') ? start.lr : lr,
    word_ngrams: fixed.has('word_ngrams') ? start.word_ngrams : word_ngrams,
    dim: fixed.has('dim') ? start.dim : dim,
  };
}

function neighbour<T extends number>(values: readonly T[], current: number, rng: SeededRandom): T {
  let i = values.indexOf(current as T);
  if (i < 0) i = values.reduce((best, v, k) => (Math.abs(v - current) < Math.abs(values[best]! - current) ? k : best), 0);
  const j = clamp(i + (rng.next() < 0.5 ? -1 : 1), 0, values.length - 1);
  return values[j]!;
}

/** fastText's autotune step: each free setting moves, with probability one half, a little. */
function mutate(rng: SeededRandom, best: TunedSettings, fixed: ReadonlySet<keyof TunedSettings>): TunedSettings {
  const s = { ...best };
  const move = (k: keyof TunedSettings) => !fixed.has(k) && rng.next() < 0.5;
  if (move('epochs')) s.epochs = Math.round(clamp(best.epochs * Math.exp((rng.next() * 2 - 1) * 0.7), SPACE.epochs[0], SPACE.epochs[1]));
  if (move('lr')) s.lr = roundLr(clamp(best.lr * Math.exp((rng.next() * 2 - 1) * 0.9), SPACE.lr[0], SPACE.lr[1]));
  if (move('word_ngrams')) s.word_ngrams = neighbour(SPACE.word_ngrams, best.word_ngrams, rng);
  if (move('dim')) s.dim = neighbour(SPACE.dim, best.dim, rng);
  return s;
}

export function autotune(input: AutotuneInput): AutotuneResult {
  const { start, fixed, buckets } = input;
  const budgetUpdates = input.seconds * REFERENCE_UPDATES_PER_SECOND;
  const rng = new SeededRandom((input.seed ^ 0x5eed7a7e) >>> 0);
  const tried = new Set<string>();
  const trials: AutotuneTrial[] = [];
  let used = 0;
  let best = start;
  let bestObjective = -Infinity;
  let stopped: AutotuneResult['stopped'] = 'max_trials';
  const allFixed = TUNED_KEYS.every((k) => fixed.has(k));

  const run = (s: TunedSettings): void => {
    const cost = candidateCost(s, buckets, input.featureCounts(s.word_ngrams));
    used += cost;
    tried.add(settingsKey(s));
    const objective = input.score(input.train(s), s);
    trials.push({ settings: s, objective, cost });
    // Ties keep the earlier candidate (the starting settings first).
    if (objective > bestObjective) {
      bestObjective = objective;
      best = s;
    }
  };

  run(start); // always evaluated, whatever the budget: the search never returns worse than it
  let skips = 0;
  while (trials.length < MAX_TRIALS) {
    if (allFixed) {
      stopped = 'space_exhausted';
      break;
    }
    let next: TunedSettings | undefined;
    for (let attempt = 0; attempt < 20 && next === undefined; attempt++) {
      const c = trials.length <= EXPLORE_TRIALS ? randomSettings(rng, start, fixed) : mutate(rng, best, fixed);
      if (!tried.has(settingsKey(c))) next = c;
    }
    if (next === undefined) {
      stopped = 'space_exhausted';
      break;
    }
    tried.add(settingsKey(next));
    if (used + candidateCost(next, buckets, input.featureCounts(next.word_ngrams)) > budgetUpdates) {
      if (++skips >= SKIPS_TO_STOP) {
        stopped = 'budget';
        break;
      }
      continue;
    }
    skips = 0;
    run(next);
  }
  return { best, bestObjective, startObjective: trials[0]!.objective, trials, budgetUpdates, usedUpdates: used, stopped };
}
