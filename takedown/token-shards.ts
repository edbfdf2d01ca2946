/**
 * Taking documents out of a run's token shards (mixes/shards/). The shards of one input shard
 * (`shard-<i>-<part>.parquet`) or of one shuffle bucket (`shuffled-<b>-<part>.parquet`) form a
 * group that one ShardSink wrote, part after part; a group that holds a removed document is read
 * back row by row (documents cut back out of packed rows at their BOS tokens), and the rows that
 * remain go through a ShardSink with the run's options again. The sink's cuts (row groups, parts,
 * packed rows) depend on the rows alone, so the group comes out as the tokenize stage writes it
 * for an input that never had the removed documents; groups without one are not touched.
 */
import { join } from 'node:path';
import { DuckDBListVector, type DuckDBConnection, type DuckDBVector } from '@duckdb/node-api';
import { InputError } from '../pipeline/errors.ts';
import { idsOfTokenFile } from '../mixes/shards/token-locations.ts';
import { ShardSink, type ShardFileEntry } from '../mixes/shards/shard-sink.ts';
import type { DocumentRow } from '../mixes/shards/token-rows.ts';
import type { TokenizeManifest } from '../mixes/shards/manifest.ts';
import { at } from '../pipeline/checked-index.ts';

/** The group an input shard's documents are in, when the run did not shuffle: `kept/shard-00003.jsonl.gz` → `shard-00003`. */
export function groupOfDocumentShard(rel: string): string | null {
  const m = /(?:^|\/)shard-(\d+)[.]/.exec(rel);
  return m ? `shard-${m[1]}` : null;
}

const quoted = (path: string) => `'${path.replaceAll("'", "''")}'`;

function listAt(v: DuckDBVector, row: number, file: string, column: string): { child: DuckDBVector; offset: number; length: number } {
  if (!(v instanceof DuckDBListVector)) throw new InputError(file, {}, `${column} is not a list column`);
  return { child: v.childVector, offset: v.getEntryOffset(row), length: v.getEntryLength(row) };
}

function int32s(l: { child: DuckDBVector; offset: number; length: number }): Int32Array {
  const out = new Int32Array(l.length);
  for (let i = 0; i < l.length; i++) out[i] = l.child.getItem(l.offset + i) as number;
  return out;
}

const str = (v: DuckDBVector, row: number): string | null => {
  const x = v.getItem(row);
  return x === null ? null : String(x);
};

/**
 * The document rows of a group's files, in order: document rows as written, or the documents of
 * packed rows (a segment that starts with BOS starts a document; one that does not continues it).
 */
export async function* groupRows(connection: DuckDBConnection, paths: string[], layout: 'documents' | 'packed', bosId: number): AsyncGenerator<DocumentRow> {
  let pending: { id: string; parts: Int32Array[] } | null = null;
  const finished = (p: { id: string; parts: Int32Array[] }): DocumentRow => {
    const n = p.parts.reduce((a, t) => a + t.length, 0);
    const tokens = new Int32Array(n);
    let at = 0;
    for (const t of p.parts) {
      tokens.set(t, at);
      at += t.length;
    }
    return { id: p.id, tokens, source: null, language: null, category: null, quality: null, quality_band: null };
  };
  for (const path of paths) {
    const columns = layout === 'documents' ? 'id, input_ids, source, language, category, quality, quality_band' : 'input_ids, offsets, doc_ids';
    const result = await connection.stream(`SELECT ${columns} FROM read_parquet(${quoted(path)})`);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (chunk === null || chunk.rowCount === 0) break;
      const v = Array.from({ length: chunk.columnCount }, (_, i) => chunk.getColumnVector(i));
      for (let r = 0; r < chunk.rowCount; r++) {
        if (layout === 'documents') {
          const quality = at(v, 5).getItem(r);
          yield {
            id: str(at(v, 0), r) ?? '',
            tokens: int32s(listAt(at(v, 1), r, path, 'input_ids')),
            source: str(at(v, 2), r),
            language: str(at(v, 3), r),
            category: str(at(v, 4), r),
            quality: quality === null ? null : Number(quality),
            quality_band: str(at(v, 6), r),
          };
          continue;
        }
        const tokens = int32s(listAt(at(v, 0), r, path, 'input_ids'));
        const offsets = int32s(listAt(at(v, 1), r, path, 'offsets'));
        const ids = listAt(at(v, 2), r, path, 'doc_ids');
        for (let s = 0; s < offsets.length; s++) {
          const segment = tokens.subarray(offsets[s], s + 1 < offsets.length ? offsets[s + 1] : tokens.length);
          const id = String(ids.child.getItem(ids.offset + s));
          if (segment[0] === bosId || pending === null) {
            if (segment[0] !== bosId) throw new InputError(path, {}, `a packed row starts with a segment of ${id} that no earlier row began`);
            if (pending) yield finished(pending);
            pending = { id, parts: [] };
          } else if (pending.id !== id) throw new InputError(path, {}, `a segment of ${id} continues ${pending.id}`);
          pending.parts.push(segment.slice());
        }
      }
    }
  }
  if (pending) yield finished(pending);
}

/** Whether a group's files hold any of `ids` (a shuffled run: any bucket may hold a document). */
export async function groupHolds(connection: DuckDBConnection, paths: string[], layout: 'documents' | 'packed', ids: ReadonlySet<string>): Promise<boolean> {
  for (const path of paths) for (const id of await idsOfTokenFile(connection, path, layout)) if (ids.has(id)) return true;
  return false;
}

/** The options a group's sink was made with: the tokenize stage's, and its Parquet metadata (tokenize-stage.ts). */
export interface SinkSettings {
  seqLen: number | null;
  shardSize: number;
  rowGroupBytes: number;
  bosId: number;
  metadata: Record<string, string>;
}

export function sinkSettings(manifest: Pick<TokenizeManifest, 'tokenizer' | 'format'>, options: { shard_size: number; row_group_size: number }): SinkSettings {
  const t = manifest.tokenizer;
  return {
    seqLen: manifest.format.seq_len,
    shardSize: options.shard_size,
    rowGroupBytes: options.row_group_size,
    bosId: t.bos_id,
    metadata: { refinery: JSON.stringify({ tokenizer: t.name, vocabulary_sha256: t.vocabulary_sha256, bos_id: t.bos_id, eos_id: t.eos_id, seq_len: manifest.format.seq_len }) },
  };
}

/** What went out of a group: per removed id, its copies and tokens per copy. */
export type RemovedRows = Record<string, { copies: number; tokens: number }>;

/**
 * Writes the group's rows but the removed ones into `stageDir` (`<stageDir>/<prefix>-<part>.parquet`),
 * each file whole; returns the new files' entries and what went out.
 */
export async function rewriteGroup(connection: DuckDBConnection, paths: string[], layout: 'documents' | 'packed', settings: SinkSettings, prefix: string, stageDir: string, ids: ReadonlySet<string>): Promise<{ files: ShardFileEntry[]; removed: RemovedRows }> {
  const sink = new ShardSink({ prefix: join(stageDir, prefix), shardSize: settings.shardSize, rowGroupBytes: settings.rowGroupBytes, seqLen: settings.seqLen, metadata: settings.metadata, bosId: settings.bosId });
  const removed: RemovedRows = {};
  try {
    for await (const row of groupRows(connection, paths, layout, settings.bosId)) {
      if (!ids.has(row.id)) {
        await sink.add(row);
        continue;
      }
      const r = (removed[row.id] ??= { copies: 0, tokens: row.tokens.length });
      r.copies++;
    }
    return { files: await sink.finish(), removed };
  } catch (e) {
    await sink.abort();
    throw e;
  }
}
