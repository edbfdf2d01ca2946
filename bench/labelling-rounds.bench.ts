/**
 * Labelling rounds: does `classify label --select uncertain` move the model more per label than a
 * random sample? Simulated on ../shared/devdata/quality/spamassassin_emails.jsonl.gz, the corpus's
 * own spam/ham labels standing in for the LLM's answers: a fixed held-out fifth is the test set;
 * round 0 labels a random sample, each further round adds as many labels chosen at random or as
 * the current model's least certain (classifiers/label/uncertain.ts, no strata), retrains
 * (fixed settings, no autotune) and scores the test set. Mean over seeds of ROC AUC and F1 at the
 * trained threshold. Quick mode (BENCH_QUICK=1): generated texts, one seed.
 *
 *   node --import tsx bench/labelling-rounds.bench.ts
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainFromLabels } from '../classifiers/training-run.ts';
import { openScorer } from '../classifiers/scorer.ts';
import { certainty, leastCertain } from '../classifiers/label/uncertain.ts';
import { sampleKey } from '../classifiers/label/sample.ts';
import { binaryMetrics, rocAuc } from '../classifiers/metrics.ts';
import type { Doc } from '../pipeline/doc.ts';
import { readDevdataJsonl } from './devdata.ts';
import { QUICK, sized } from './quick.ts';
import { at } from '../pipeline/checked-index.ts';

interface Example {
  id: string;
  text: string;
  label: number;
}

function corpus(): Example[] {
  const real = readDevdataJsonl<{ id: string; text: string; label: string }>('quality/spamassassin_emails.jsonl.gz');
  if (real.length > 0) return real.map((r) => ({ id: r.id, text: r.text.slice(0, 8000), label: r.label === 'spam' ? 1 : 0 }));
  const good = ['meeting notes attached', 'the build failed again', 'see you at lunch', 'patch for the parser'];
  const bad = ['free money now', 'click to win', 'cheap pills online', 'limited offer today'];
  return Array.from({ length: 240 }, (_, i) => ({ id: `g${i}`, text: `${(i % 2 ? bad : good)[i % 4]} ${(i % 3 ? good : bad)[(i + 1) % 4]} ${i}`, label: i % 2 }));
}

const ROUNDS = sized(5, 2);
const PER_ROUND = sized(60, 20);
const SEEDS = sized([1, 2, 3], [1]);
const TRAIN = { buckets: 1 << 16, dim: 16, epochs: 25, lr: 0.5, word_ngrams: 2, autotune_seconds: 0, valid_fraction: 0.15, test_fraction: 0 };

async function trainAndScore(dir: string, labelled: Example[], test: Example[], pool: Example[], seed: number): Promise<{ auc: number; f1: number; poolCertainty: number[] }> {
  const file = join(dir, 'labels.jsonl');
  await writeFile(file, labelled.map((e) => JSON.stringify(e)).join('\n') + '\n');
  await rm(join(dir, 'model'), { recursive: true, force: true });
  await trainFromLabels(file, join(dir, 'model'), { ...TRAIN, seed });
  const scorer = await openScorer(join(dir, 'model'));
  try {
    const k = scorer.outputs;
    const positive = scorer.card.labels.indexOf(scorer.card.positive_label ?? at(scorer.card.labels, 1));
    const raw = await scorer.score(test.map((e) => e.text));
    const scores = test.map((_, r) => at(raw, r * k + positive));
    const truth = test.map((e) => e.label === 1);
    const threshold = scorer.card.threshold ?? 0.5;
    const m = binaryMetrics(scores, truth, threshold, ['0', '1']);
    return { auc: rocAuc(scores, truth), f1: m.f1, poolCertainty: await certainty(scorer, pool.map((e) => e.text)) };
  } finally {
    await scorer.close();
  }
}

async function main(): Promise<void> {
  const all = corpus();
  const test = all.filter((e) => sampleKey(99, e.id) % 5 === 0);
  const rest = all.filter((e) => sampleKey(99, e.id) % 5 !== 0);
  const results: Record<'random' | 'uncertain', { auc: number[]; f1: number[] }[]> = { random: [], uncertain: [] };
  for (const seed of SEEDS) {
    const order = [...rest].sort((a, b) => sampleKey(seed, a.id) - sampleKey(seed, b.id));
    for (const strategy of ['random', 'uncertain'] as const) {
      const dir = await mkdtemp(join(tmpdir(), 'labelling-rounds-'));
      const labelled = order.slice(0, PER_ROUND);
      let pool = order.slice(PER_ROUND);
      for (let round = 0; round <= ROUNDS; round++) {
        const { auc, f1, poolCertainty } = await trainAndScore(dir, labelled, test, pool, seed);
        const row = (results[strategy][round] ??= { auc: [], f1: [] });
        row.auc.push(auc);
        row.f1.push(f1);
        if (round === ROUNDS) break;
        const docs: Doc[] = pool.map((e) => ({ id: e.id, text: e.text, meta: {} }));
        const byId = new Map(pool.map((e) => [e.id, e]));
        const picked = strategy === 'random' ? pool.slice(0, PER_ROUND) : leastCertain(docs, poolCertainty, PER_ROUND).flatMap((d) => byId.get(d.id) ?? []);
        const taken = new Set(picked.map((e) => e.id));
        labelled.push(...picked);
        pool = pool.filter((e) => !taken.has(e.id));
      }
      await rm(dir, { recursive: true, force: true });
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rows = results.random.map((r, round) => {
    const u = at(results.uncertain, round);
    return `| ${round} | ${PER_ROUND * (round + 1)} | ${mean(r.auc).toFixed(3)} | ${mean(u.auc).toFixed(3)} | ${mean(r.f1).toFixed(3)} | ${mean(u.f1).toFixed(3)} |`;
  });
  process.stdout.write(
    `Labelling rounds on ${QUICK ? 'generated texts (quick mode)' : `SpamAssassin (${all.length} mails, test ${test.length})`}, ${SEEDS.length} seed(s), ${PER_ROUND} labels per round\n\n` +
      '| round | labels | ROC AUC, random | ROC AUC, uncertain | F1, random | F1, uncertain |\n|---:|---:|---:|---:|---:|---:|\n' +
      rows.join('\n') +
      '\n',
  );
}

await main();
