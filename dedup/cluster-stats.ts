/** What every document-level dedup stage reports in `<outputDir>/stats/<stage>.json`. */
import { join } from 'node:path';
import { stableJson, writeFileAtomic } from '../pipeline/io/atomic.ts';

/** Cluster sizes 2..10 exactly, then by decade: "11-100", "101-1000", ... */
export function sizeBin(size: number): string {
  if (size <= 10) return String(size);
  let lo = 10;
  while (size > lo * 10) lo *= 10;
  return `${lo + 1}-${lo * 10}`;
}

export function histogram(sizes: Iterable<number>): Record<string, number> {
  const h: Record<string, number> = {};
  for (const s of sizes) {
    const b = sizeBin(s);
    h[b] = (h[b] ?? 0) + 1;
  }
  return h;
}

export async function writeStageStats(outputDir: string, stage: string, stats: Record<string, unknown>): Promise<void> {
  await writeFileAtomic(join(outputDir, 'stats', `${stage}.json`), stableJson({ stage, ...stats }));
}
