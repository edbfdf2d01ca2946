/**
 * Which token shard files hold a document. The shards of one input shard (`shard-<i>-<part>`, a
 * run that did not shuffle) or of one shuffle bucket (`shuffled-<b>-<part>`) are a group one sink
 * wrote; a document of input shard i is in group `shard-<i>`, and when that group is one file,
 * its name says so without reading it. Otherwise the ids of the group's files (the `id` column,
 * or `doc_ids` of packed rows; a shuffled run: every file's) are read with DuckDB.
 */
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { RefineryError } from '../../pipeline/errors.ts';
import type { RunFiles } from '../../pipeline/run-folder/files.ts';
import { manifestPaths } from './manifest-names.ts';
import type { TokenizeManifest } from './manifest.ts';
import { shardNumber, type ShardFileEntry } from './shard-sink.ts';
import { TOKENS_DIR } from './tokenize-options.ts';

export interface TokenGroup {
  /** `shard-00003` or `shuffled-00012`: the sink's prefix in the tokens folder. */
  prefix: string;
  files: ShardFileEntry[];
}

/** The files of a manifest by the sink that wrote them, in manifest order (parts in order). */
export function tokenGroups(manifest: Pick<TokenizeManifest, 'shards'>): TokenGroup[] {
  const groups = new Map<string, ShardFileEntry[]>();
  for (const f of manifest.shards) {
    const m = /^(.*)-\d+\.parquet$/.exec(f.file);
    if (!m?.[1]) throw new RefineryError(`token shard ${f.file}: not a name the tokenize stage writes (<prefix>-<part>.parquet)`);
    let list = groups.get(m[1]);
    if (!list) groups.set(m[1], (list = []));
    list.push(f);
  }
  return [...groups].map(([prefix, files]) => ({ prefix, files }));
}

/** The group of input shard `index` in a run that did not shuffle. */
export function inputShardGroup(index: number): string {
  return `shard-${shardNumber(index)}`;
}

/** A DuckDB connection for reading token shards, closed by `close`. */
export async function openTokenReader(): Promise<{ connection: DuckDBConnection; close: () => void }> {
  const duckdb = await DuckDBInstance.create(':memory:', { threads: '1' });
  const connection = await duckdb.connect();
  return {
    connection,
    close: () => {
      connection.closeSync();
      duckdb.closeSync();
    },
  };
}

/** The distinct document ids of a token shard file. */
export async function idsOfTokenFile(connection: DuckDBConnection, path: string, layout: 'documents' | 'packed'): Promise<Set<string>> {
  const file = `'${path.replaceAll("'", "''")}'`;
  const sql = layout === 'documents' ? `SELECT DISTINCT id FROM read_parquet(${file})` : `SELECT DISTINCT unnest(doc_ids) FROM read_parquet(${file})`;
  return new Set((await (await connection.run(sql)).getRows()).map((r) => String(r[0])));
}

/** The run's token manifest, or null for a run that did not tokenize. */
export async function readRunManifest(runDir: string, files: RunFiles): Promise<TokenizeManifest | null> {
  for (const path of manifestPaths(join(runDir, TOKENS_DIR))) if (await files.need(path)) return JSON.parse(await readFile(path, 'utf8')) as TokenizeManifest;
  return null;
}

/**
 * The token shard files (paths relative to the run, `tokens/…`) that hold each document, keyed
 * `<input shard>/<id>`; none for a document in no file (rejected before tokenize, or a plan gave it
 * no copy), and an empty map for a run that did not tokenize.
 */
export async function tokenFilesOf(runDir: string, files: RunFiles, docs: readonly { id: string; shard: number }[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  const manifest = await readRunManifest(runDir, files);
  if (manifest === null || docs.length === 0) return out;
  const groups = new Map(tokenGroups(manifest).map((g) => [g.prefix, g]));
  const key = (shard: number, id: string) => `${shard}/${id}`;
  const candidates = (shard: number) => (manifest.shuffle === null ? [groups.get(inputShardGroup(shard))].filter((g) => g !== undefined) : [...groups.values()]);
  const toRead = new Set<string>();
  for (const d of docs) {
    const files = candidates(d.shard).flatMap((g) => g.files.map((f) => f.file));
    if (manifest.shuffle === null && files.length === 1) out.set(key(d.shard, d.id), [`${TOKENS_DIR}/${files[0]}`]);
    else for (const f of files) toRead.add(f);
  }
  if (toRead.size === 0) return out;
  const reader = await openTokenReader();
  try {
    const idsOf = new Map<string, Set<string>>();
    for (const f of [...toRead].sort()) {
      const path = join(runDir, TOKENS_DIR, f);
      if (!(await files.need(path))) throw new RefineryError(`${path}: listed in the token manifest, but not there`);
      idsOf.set(f, await idsOfTokenFile(reader.connection, path, manifest.format.layout));
    }
    for (const d of docs) {
      if (out.has(key(d.shard, d.id))) continue;
      const holding = candidates(d.shard).flatMap((g) => g.files.map((f) => f.file)).filter((f) => idsOf.get(f)?.has(d.id));
      out.set(key(d.shard, d.id), holding.map((f) => `${TOKENS_DIR}/${f}`));
    }
  } finally {
    reader.close();
  }
  return out;
}
