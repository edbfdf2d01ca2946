/**
 * Benchmark contamination: the benchmark items the `decontam` stage found in the run's documents
 * (documents per item, how many it dropped or marked, a seeded sample of their ids), and whether
 * the run wrote a contamination ledger (`decontam-index`) for `refinery decontam check`. Shown
 * when the run has either stage.
 */
import { join } from 'node:path';
import { z } from 'zod';
import { readJsonIf } from '../run-files.ts';
import { lowestRanked, rankOf, type Ranked } from '../settled-figures.ts';
import { availableText, missing, n, table, type Missing, type ReportSection, type Table } from '../section.ts';

const SAMPLE_IDS = 3;

export interface ContaminationSection {
  available: true;
  /** From `meta.decontam` (the `decontam` stage): per benchmark item (`file:id`), the documents sharing n-grams with it. */
  items?: { item: string; docs: number; dropped: number; kept: number; shared_ngrams: number; sample_ids: string[] }[];
  /** From decontam/manifest.json (the `decontam-index` stage). */
  ledger?: { n: number; partitions: number; documents: number; records: number };
}

interface ItemTally {
  docs: number;
  dropped: number;
  kept: number;
  shared: number;
  sample: Ranked<string>[];
}

type ContaminationTally = Record<string, ItemTally>;

const ledgerSchema = z.looseObject({ n: z.number(), partitions: z.number(), documents: z.number(), records: z.number() });

export const contaminationSection: ReportSection<'contamination', ContaminationSection | Missing, ContaminationTally> = {
  key: 'contamination',
  title: 'Benchmark contamination',

  tally: {
    start({ seed }) {
      const items: ContaminationTally = {};
      return {
        add({ outcome, doc }) {
          const d = doc.meta.decontam as { items?: unknown; shared?: unknown } | undefined;
          if (outcome === 'errored' || !Array.isArray(d?.items)) return;
          const dropped = outcome === 'rejected' && typeof doc.meta.reject_reason === 'string' && doc.meta.reject_reason.startsWith('decontam:');
          for (const item of d.items) {
            if (typeof item !== 'string') continue;
            const t = (items[item] ??= { docs: 0, dropped: 0, kept: 0, shared: 0, sample: [] });
            t.docs++;
            if (dropped) t.dropped++;
            if (outcome === 'kept') t.kept++;
            if (typeof d.shared === 'number') t.shared += d.shared;
            t.sample = lowestRanked([...t.sample, { rank: rankOf(seed, doc.id), name: doc.id, item: doc.id }], SAMPLE_IDS);
          }
        },
        part: () => items,
      };
    },
    merge(a, b) {
      const out: ContaminationTally = { ...a };
      for (const [item, t] of Object.entries(b)) {
        const o = out[item];
        out[item] = o ? { docs: o.docs + t.docs, dropped: o.dropped + t.dropped, kept: o.kept + t.kept, shared: o.shared + t.shared, sample: lowestRanked([...o.sample, ...t.sample], SAMPLE_IDS) } : t;
      }
      return out;
    },
  },

  async collect({ runDir, files, tallies, stats }) {
    const t = tallies.contamination as ContaminationTally | undefined;
    const ledger = ledgerSchema.safeParse(await readJsonIf(join(runDir, 'decontam', 'manifest.json'), files));
    const ranDecontam = stats?.stages.some((s) => s.name === 'decontam') ?? false;
    if (!ranDecontam && !ledger.success) return missing('not run: no decontam or decontam-index stage in the run');
    return {
      available: true,
      ...(ranDecontam
        ? {
            items: Object.entries(t ?? {})
              .map(([item, x]) => ({ item, docs: x.docs, dropped: x.dropped, kept: x.kept, shared_ngrams: x.shared, sample_ids: x.sample.map((s) => s.item) }))
              .sort((a, b) => b.docs - a.docs || (a.item < b.item ? -1 : 1)),
          }
        : {}),
      ...(ledger.success ? { ledger: { n: ledger.data.n, partitions: ledger.data.partitions, documents: ledger.data.documents, records: ledger.data.records } } : {}),
    };
  },

  text: (data) =>
    availableText(data, (c) => {
      const notes: string[] = [];
      const tables: Table[] = [];
      if (c.items) {
        notes.push(
          c.items.length
            ? `decontam: ${n(c.items.length)} benchmark items share n-grams with the run's documents. Per item: the documents that overlap it, how many the stage dropped (or, in mode: annotate, kept and marked in meta.decontam), the n-grams they share, and a seeded sample of their ids (\`refinery inspect <run> --id <id>\`).`
            : 'decontam: no document shares an n-gram with the benchmarks.',
        );
        if (c.items.length) tables.push(table(['benchmark item', 'documents', 'dropped', 'kept', 'shared n-grams', 'documents (sample)'], c.items.map((x) => [x.item, n(x.docs), n(x.dropped), n(x.kept), n(x.shared_ngrams), x.sample_ids.join(', ')]), [false, true, true, true, true, false]));
      }
      if (c.ledger) {
        notes.push(`decontam-index: a contamination ledger of ${n(c.ledger.documents)} documents (${n(c.ledger.records)} distinct ${c.ledger.n}-gram and document pairs, ${c.ledger.partitions} partitions) in decontam/; \`refinery decontam check <run> --benchmark evals.jsonl\` answers for any benchmark, including one released after the run, from the ledger alone.`);
      }
      return { notes, tables };
    }),

  charts: () => [],
};
