/**
 * `decontam check`: which documents of a finished run share n-grams with each item of a benchmark,
 * answered from the run's contamination ledger alone (decontam/ledger-files.ts), never from the
 * corpus, so a benchmark released after the run can still be checked. For each item: its distinct
 * n-grams, the share of them found in the corpus (`overlap`), and each document holding any, with
 * how many it shares, and the token shards that hold it (when the run tokenized): what to drop or
 * `refinery remove` before training.
 */
import { ngramHashes, partitionOf } from './ngrams.ts';
import type { BenchmarkItem } from './benchmark-items.ts';
import { PartitionReader, readManifest, readShardIds, type LedgerManifest } from './ledger-files.ts';
import { tokenFilesOf } from '../mixes/shards/token-locations.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';

export interface ContaminatedDoc {
  id: string;
  shard: number;
  pos: number;
  /** the item's n-grams this document holds */
  shared: number;
  /** shared / the item's n-grams */
  overlap: number;
  /** The token shard files holding the document (`tokens/…`, relative to the run); none when the run did not tokenize it. */
  token_files: string[];
}

export interface ItemReport {
  index: number;
  id: string;
  ngrams: number;
  /** the item's n-grams found in any document */
  found: number;
  /** found / ngrams (0 for an item shorter than n words) */
  overlap: number;
  documents: ContaminatedDoc[];
}

export interface CheckReport {
  run: string;
  benchmark: string;
  fields: string[] | 'all';
  n: number;
  items: ItemReport[];
}

export async function checkContamination(runDir: string, items: readonly BenchmarkItem[]): Promise<{ manifest: LedgerManifest; items: ItemReport[]; recordsRead: number }> {
  const manifest = await readManifest(runDir);
  const hashes = items.map((it) => ngramHashes(it.text, manifest.n));
  // Every lookup of one partition together, so each ledger file is opened once.
  const byPartition = new Map<number, { item: number; hi: number; lo: number }[]>();
  hashes.forEach((h, item) => {
    for (let i = 0; i < h.length; i += 2) {
      const p = partitionOf(h[i]!, manifest.partitions);
      let list = byPartition.get(p);
      if (list === undefined) byPartition.set(p, (list = []));
      list.push({ item, hi: h[i]!, lo: h[i + 1]! });
    }
  });
  const found = items.map(() => 0);
  let recordsRead = 0;
  const shared = items.map(() => new Map<number, number>()); // shard * 2^32 + pos -> n-grams shared
  for (const [p, lookups] of [...byPartition].sort((a, b) => a[0] - b[0])) {
    const reader = await PartitionReader.open(runDir, p);
    try {
      for (const { item, hi, lo } of lookups) {
        const refs = await reader.lookup(hi, lo);
        if (refs.length > 0) found[item]!++;
        for (const [shard, pos] of refs) {
          const key = shard * 0x1_0000_0000 + pos;
          shared[item]!.set(key, (shared[item]!.get(key) ?? 0) + 1);
        }
      }
    } finally {
      recordsRead += reader.reads;
      await reader.close();
    }
  }
  const ids = new Map<number, string[]>();
  const idOf = async (shard: number, pos: number) => {
    let list = ids.get(shard);
    if (list === undefined) ids.set(shard, (list = await readShardIds(runDir, shard)));
    return list[pos] ?? `shard ${shard} position ${pos}`;
  };
  const reports: ItemReport[] = [];
  for (let i = 0; i < items.length; i++) {
    const ngrams = hashes[i]!.length / 2;
    const documents: ContaminatedDoc[] = [];
    for (const [key, n] of shared[i]!) {
      const shard = Math.floor(key / 0x1_0000_0000);
      const pos = key % 0x1_0000_0000;
      documents.push({ id: await idOf(shard, pos), shard, pos, shared: n, overlap: n / ngrams, token_files: [] });
    }
    documents.sort((a, b) => b.shared - a.shared || a.shard - b.shard || a.pos - b.pos);
    reports.push({ index: items[i]!.index, id: items[i]!.id, ngrams, found: found[i]!, overlap: ngrams === 0 ? 0 : found[i]! / ngrams, documents });
  }
  // Only the documents found are looked for, and only in the token groups of their input shards.
  const located = await tokenFilesOf(runDir, folderFiles, reports.flatMap((r) => r.documents));
  for (const r of reports) for (const d of r.documents) d.token_files = located.get(`${d.shard}/${d.id}`) ?? [];
  return { manifest, items: reports, recordsRead };
}

/** The report as Markdown: contaminated items first, then a count of the clean ones. */
export function formatCheckReport(r: CheckReport, maxDocs = 5): string {
  const hit = r.items.filter((i) => i.found > 0);
  const short = r.items.filter((i) => i.ngrams === 0).length;
  const lines = [
    `## Contamination: ${r.benchmark}`,
    '',
    `${hit.length} of ${r.items.length} items share ${r.n}-grams with the corpus of ${r.run}${short ? ` (${short} items shorter than ${r.n} words cannot be checked)` : ''}.`,
  ];
  if (hit.length > 0) {
    lines.push('', '| item | n-grams | found | overlap | documents (shared n-grams, input shard, token shards) |', '|---|---:|---:|---:|---|');
    for (const i of hit.sort((a, b) => b.overlap - a.overlap || a.index - b.index)) {
      const docs = i.documents.slice(0, maxDocs).map((d) => `${d.id} (${d.shared}, shard ${d.shard}${d.token_files.length ? `, ${d.token_files.join(', ')}` : ''})`);
      if (i.documents.length > maxDocs) docs.push(`… ${i.documents.length - maxDocs} more`);
      lines.push(`| ${i.id} | ${i.ngrams} | ${i.found} | ${i.overlap.toFixed(3)} | ${docs.join('; ')} |`);
    }
  }
  return lines.join('\n') + '\n';
}
