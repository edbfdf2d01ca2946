/**
 * The documents a run folder holds, as records: kept/ and rejected/ hold `{id, text, meta}`;
 * errors/ holds `{id, stage, error, text, meta}` (a stage threw) or `{id, stage: "read", error,
 * where, raw?}` (an unreadable input record). Files are read in name order, each in its own order,
 * so a walk over a finished run is the same every time.
 */
import { createReadStream } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { compressionOf, createDecompress } from '../pipeline/io/compression.ts';
import { readDocs } from '../pipeline/io/read.ts';
import { errorMessage, InputError } from '../pipeline/errors.ts';
import { folderFiles, type RunFiles } from '../pipeline/run-folder/files.ts';

export type Outcome = 'kept' | 'rejected' | 'errored';

export const OUTCOME_FOLDERS: Record<Outcome, string> = { kept: 'kept', rejected: 'rejected', errored: 'errors' };

export interface RunRecord {
  outcome: Outcome;
  /** The shard file, relative to the run folder. */
  file: string;
  id: string;
  text: string;
  meta: Record<string, unknown>;
  /** errors/: the stage that threw (`read` for an unreadable input record) and its message. */
  stage?: string;
  error?: string;
}

const SHARD = /\.jsonl(\.gz|\.zst)?$|\.parquet$/i;

/**
 * Shard files of one of a run's folders, in name order; none when the folder is missing. A run
 * written with `output_format: dolma` keeps its documents one level down, in `documents/`.
 */
export async function shardFiles(runDir: string, outcome: Outcome, run: RunFiles = folderFiles): Promise<string[]> {
  const top = OUTCOME_FOLDERS[outcome];
  for (const folder of [top, join(top, 'documents')]) {
    const files = (await run.list(join(runDir, folder))).filter((n) => SHARD.test(n)).map((n) => join(folder, n));
    if (files.length) return files;
  }
  return [];
}

async function* lines(path: string): AsyncGenerator<string> {
  const raw = createReadStream(path);
  const decompress = createDecompress(compressionOf(path));
  const input = decompress ? raw.pipe(decompress) : raw;
  raw.on('error', (e) => input.destroy(e));
  for await (const line of createInterface({ input, crlfDelay: Infinity })) if (line.trim()) yield line;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Fields beside id and text; a `metadata` object (Dolma's and datatrove's layouts) is merged in. */
function flatMeta(r: Record<string, unknown>): Record<string, unknown> {
  const { id: _id, text: _text, metadata, ...rest } = r;
  return isObject(metadata) ? { ...metadata, ...rest } : metadata === undefined ? rest : { metadata, ...rest };
}

function toRecord(outcome: Outcome, file: string, value: unknown): RunRecord | null {
  if (value === null || typeof value !== 'object') return null;
  const r = value as Record<string, unknown>;
  // Records written by other tools may carry their fields flat beside id and text, as input records do.
  const meta = isObject(r.meta) ? r.meta : flatMeta(r);
  const text = typeof r.text === 'string' ? r.text : typeof r.raw === 'string' ? r.raw : '';
  return {
    outcome,
    file,
    id: r.id === null || r.id === undefined ? '' : String(r.id),
    text,
    meta,
    ...(typeof r.stage === 'string' ? { stage: r.stage } : {}),
    ...(typeof r.error === 'string' ? { error: r.error } : {}),
  };
}

/**
 * A shard file that could not be read to its end: missing, truncated, corrupt. `records` of it
 * were read (and yielded) before the problem.
 */
export interface UnreadShard {
  file: string;
  records: number;
  problem: string;
}

/**
 * Every record of the chosen folders of a run, kept/ then rejected/ then errors/. A shard that
 * cannot be read to its end is handed to `onUnread` and the walk goes on with the next one; without
 * `onUnread` it is an InputError naming the file (a run being written, or a damaged copy).
 */
export async function* runRecords(
  runDir: string,
  outcomes: readonly Outcome[] = ['kept', 'rejected', 'errored'],
  run: RunFiles = folderFiles,
  onUnread?: (shard: UnreadShard) => void,
): AsyncGenerator<RunRecord> {
  const unread = (shard: UnreadShard) => {
    if (!onUnread) throw new InputError(join(runDir, shard.file), {}, `${shard.problem}${shard.records ? ` (after ${shard.records} records)` : ''}`);
    onUnread(shard);
  };
  for (const outcome of (['kept', 'rejected', 'errored'] as const).filter((o) => outcomes.includes(o))) {
    for (const file of await shardFiles(runDir, outcome, run)) {
      let records = 0;
      try {
        if (!(await run.need(join(runDir, file)))) {
          unread({ file, records, problem: 'listed in its folder, but the file is not there' });
          continue;
        }
        if (file.endsWith('.parquet')) {
          // output_format: parquet (kept/ and rejected/): the Parquet reader merges the meta column back into meta.
          for await (const item of readDocs(join(runDir, file))) {
            if (item.kind === 'error') {
              unread({ file, records, problem: item.error });
              break;
            }
            records++;
            yield { outcome, file, ...item.doc };
          }
          continue;
        }
        for await (const line of lines(join(runDir, file))) {
          let value: unknown;
          try {
            value = JSON.parse(line);
          } catch {
            continue; // a run writes whole lines; a torn line is a file being written, not a document
          }
          const rec = toRecord(outcome, file, value);
          if (rec) {
            records++;
            yield rec;
          }
        }
      } catch (e) {
        if (e instanceof InputError && !onUnread) throw e;
        unread({ file, records, problem: `cannot be read on (truncated or damaged?): ${errorMessage(e)}` });
      }
    }
  }
}

/** The stage a record left the run at: the rejecting stage, the stage that threw, or none (kept). */
export function exitStage(r: RunRecord): string | undefined {
  if (r.outcome === 'errored') return r.stage;
  if (r.outcome === 'rejected' && typeof r.meta.reject_reason === 'string') return r.meta.reject_reason.slice(0, Math.max(0, r.meta.reject_reason.indexOf(':'))) || r.meta.reject_reason;
  return undefined;
}
