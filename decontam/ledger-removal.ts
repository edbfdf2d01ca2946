/**
 * The contamination ledger without removed documents (`refinery remove`): their records leave every
 * partition, the later documents of their shards move up one position per removed one before them
 * (as the decontam-index stage numbers the documents of a shard that never had them), their ids
 * leave docs/shard-*.json, and the manifest's counts follow. Records stay sorted: within one n-gram
 * and shard, positions keep their order. Each partition and ids file is written whole, through a
 * staging copy that the removal's journal records, since doing one twice would move positions twice.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stableJson, writeFileAtomic } from '../pipeline/io/atomic.ts';
import { RefineryError } from '../pipeline/errors.ts';
import { at } from '../pipeline/checked-index.ts';
import type { OpenedRun } from '../pipeline/run-folder/open-run.ts';
import { docsFile, ledgerDir, partFile, RECORD_WORDS, type LedgerManifest } from './ledger-files.ts';

export interface LedgerRemoval {
  /** The ledger's manifest as the run made it. */
  manifest: string;
  /** Per input shard, the positions removed, ascending. */
  positions: Record<string, number[]>;
  /** Per file (`part/<p>`, `docs/<shard>`): the records it dropped once written, -1 while its new bytes wait in staging. */
  done: Record<string, number>;
  /** The records a staged file dropped. */
  staged: Record<string, number>;
}

/** What leaves the ledger for these ids, looked up in the shards named; null for a run without a ledger. */
export async function planLedgerRemoval(run: OpenedRun, ids: ReadonlySet<string>, shards: readonly number[]): Promise<LedgerRemoval | null> {
  const dir = ledgerDir(run.dir);
  const manifestPath = join(dir, 'manifest.json');
  if (!(await run.files.need(manifestPath))) return null;
  const manifest = await readFile(manifestPath, 'utf8');
  const positions: Record<string, number[]> = {};
  for (const shard of [...new Set(shards)].sort((a, b) => a - b)) {
    const path = docsFile(dir, shard);
    if (!(await run.files.need(path))) continue;
    const list = JSON.parse(await readFile(path, 'utf8')) as string[];
    const found = list.flatMap((id, pos) => (ids.has(id) ? [pos] : []));
    if (found.length) positions[String(shard)] = found;
  }
  return { manifest, positions, done: {}, staged: {} };
}

/** The number of removed positions below `pos` (binary search in the ascending list). */
function before(removed: readonly number[], pos: number): number {
  let a = 0;
  let b = removed.length;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (at(removed, mid) < pos) a = mid + 1;
    else b = mid;
  }
  return a;
}

/**
 * Writes a file of the ledger again, resumably: the new bytes first go whole to `staging` (the
 * journal then says so), then take the file's place; a removal resumed after a kill finishes the
 * move, never transforms a file twice.
 */
async function replaceFile(run: OpenedRun, plan: LedgerRemoval, key: string, path: string, staged: string, make: () => Promise<{ bytes: Uint8Array | string; dropped: number } | null>, save: () => Promise<void>): Promise<void> {
  if (plan.done[key] === undefined) {
    const made = await make();
    if (made === null) {
      plan.done[key] = 0;
      await save();
      return;
    }
    await writeFileAtomic(staged, made.bytes);
    await run.put(staged);
    plan.staged[key] = made.dropped;
    plan.done[key] = -1;
    await save();
  }
  if (plan.done[key] === -1) {
    if (await run.files.need(staged)) {
      await writeFileAtomic(path, await readFile(staged));
      await run.put(path);
      await run.delete([staged]);
    }
    plan.done[key] = plan.staged[key] ?? 0;
    await save();
  }
}

/** Applies the removal, saving the journal after each step; the manifest last. */
export async function applyLedgerRemoval(run: OpenedRun, plan: LedgerRemoval, stagingDir: string, save: () => Promise<void>): Promise<void> {
  if (Object.keys(plan.positions).length === 0) return;
  const dir = ledgerDir(run.dir);
  const manifest = JSON.parse(plan.manifest) as LedgerManifest;
  const removed = new Map(Object.entries(plan.positions).map(([s, p]) => [Number(s), p]));
  for (let p = 0; p < manifest.partitions; p++) {
    const path = partFile(dir, p);
    await replaceFile(run, plan, `part/${p}`, path, join(stagingDir, `part-${p}.bin`), async () => {
      if (!(await run.files.need(path))) throw new RefineryError(`${run.where(path)}: a partition of the ledger is missing`);
      const bytes = await readFile(path);
      if (bytes.byteLength % (RECORD_WORDS * 4) !== 0) throw new RefineryError(`${run.where(path)}: not whole ${RECORD_WORDS * 4}-byte records (${bytes.byteLength} bytes): the ledger partition is damaged`);
      const words = new Uint32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      const out = new Uint32Array(words.length);
      let n = 0;
      let dropped = 0;
      let moved = 0;
      for (let i = 0; i < words.length; i += RECORD_WORDS) {
        const shard = at(words, i + 2);
        const pos = at(words, i + 3);
        const gone = removed.get(shard);
        const k = gone === undefined ? 0 : before(gone, pos);
        if (gone !== undefined && gone[k] === pos) {
          dropped++;
          continue;
        }
        if (k > 0) moved++;
        out.set([at(words, i), at(words, i + 1), shard, pos - k], n);
        n += RECORD_WORDS;
      }
      return dropped === 0 && moved === 0 ? null : { bytes: new Uint8Array(out.buffer, 0, n * 4), dropped };
    }, save);
  }
  for (const [shard, gone] of removed) {
    const path = docsFile(dir, shard);
    await replaceFile(run, plan, `docs/${shard}`, path, join(stagingDir, `docs-${shard}.json`), async () => {
      if (!(await run.files.need(path))) return null;
      const goneSet = new Set(gone);
      // As writeShardIds writes it.
      return { bytes: JSON.stringify((JSON.parse(await readFile(path, 'utf8')) as string[]).filter((_, pos) => !goneSet.has(pos))) + '\n', dropped: 0 };
    }, save);
  }
  const dropped = Object.entries(plan.done).filter(([k]) => k.startsWith('part/')).reduce((a, [, v]) => a + v, 0);
  const documents = [...removed.values()].reduce((a, p) => a + p.length, 0);
  const path = join(dir, 'manifest.json');
  await writeFileAtomic(path, stableJson({ ...manifest, documents: manifest.documents - documents, records: manifest.records - dropped }));
  await run.put(path);
}
