/**
 * Streaming Parquet reader on DuckDB's native Parquet scanner (@duckdb/node-api): one DuckDB
 * thread per reader, results fetched in chunks of 2,048 rows, so memory holds one row group's
 * column chunks and one chunk of rows. The text column (`ReaderOptions.textField`) becomes
 * `Doc.text`, the id column (`idField`, optional) `Doc.id`, and every other column a JSON-safe
 * value in `meta`; a `meta` or `metadata` column that holds objects (struct, map, or JSON text of
 * an object) is merged into `meta`, as the JSONL reader merges such a field.
 *
 * Rows are read row group by row group: each row a corrupt group keeps from being read becomes
 * an error item naming the file, the row and the group, and every other group is read. DuckDB does not verify Parquet page
 * checksums (CRC32), so damage that still decodes is not detected (docs/readers.md).
 *
 * Why DuckDB and not parquet-wasm (bench/readers.bench.ts, docs/readers.md): parquet-wasm
 * aborts the whole process with an uncatchable WebAssembly "unreachable" on a corrupt page,
 * where DuckDB raises an error we turn into an error item; and DuckDB scans 2-3x faster.
 *
 * A missing or non-string text column stops the run (InputError: every row would fail the same
 * way); a row whose text is null becomes an error item naming the file and the row (1-based).
 * `options.stripe` (a large file shared by several tasks) selects rows by their index in the
 * file, as the JSONL reader selects lines.
 */
import { basename } from 'node:path';
import {
  DuckDBInstance,
  DuckDBTypeId,
  JSDuckDBValueConverter,
  JsonDuckDBValueConverter,
  type DuckDBConnection,
  type DuckDBDataChunk,
  type DuckDBType,
} from '@duckdb/node-api';
import { InputError } from '../errors.ts';
import { inStripe, mergeFields, setField, STRIPE_LINES, type ReadItem, type ReaderOptions } from './read-item.ts';

/** One in-memory DuckDB per thread, itself single-threaded: the runner parallelises over files. */
let instance: Promise<DuckDBInstance> | null = null;
function duckdb(): Promise<DuckDBInstance> {
  instance ??= DuckDBInstance.create(':memory:', { threads: '1' });
  return instance;
}

type ConvertColumn = (chunk: DuckDBDataChunk, column: number) => unknown[];

interface Column {
  name: string;
  index: number;
  convert: ConvertColumn;
}

/** `localPath`: where the bytes of `file` are (a downloaded copy of an s3:// object); `file` names it in ids and errors. */
export async function* readParquetDocs(file: string, options: ReaderOptions, localPath = file): AsyncGenerator<ReadItem> {
  const name = options.idPrefix ?? basename(file);
  const connection = await (await duckdb()).connect();
  try {
    const source = `read_parquet(${sqlString(localPath)}, file_row_number = true)`;
    let names: string[];
    let types: DuckDBType[];
    try {
      const schema = await connection.stream(`SELECT * FROM ${source} LIMIT 0`);
      names = schema.columnNames();
      types = schema.columnTypes();
    } catch (e) {
      yield { kind: 'error', where: { file, offset: 0 }, error: `not a readable Parquet file: ${firstLine(e)}` };
      return;
    }
    const rowColumn = names.lastIndexOf('file_row_number');
    const text = names.indexOf(options.textField);
    const fileColumns = names.filter((_, k) => k !== rowColumn);
    if (text === -1 || text === rowColumn) {
      throw new InputError(file, {}, `no text column "${options.textField}" (columns: ${fileColumns.join(', ')}); set text_field to the column that holds the text`);
    }
    if (types[text]!.typeId !== DuckDBTypeId.VARCHAR) {
      throw new InputError(file, {}, `text column "${options.textField}" has type ${types[text]!.toString()}, not a string`);
    }
    const id = names.indexOf(options.idField);
    const columns: Column[] = names.map((n, index) => ({ name: n, index, convert: converterFor(types[index]!) }));
    const metaColumns = columns.filter((c) => c.index !== text && c.index !== id && c.index !== rowColumn);

    let groups: RowGroup[];
    try {
      groups = await rowGroups(connection, localPath);
    } catch (e) {
      yield { kind: 'error', where: { file, offset: 0 }, error: `not a readable Parquet file: ${firstLine(e)}` };
      return;
    }
    const stripe = options.stripe && options.stripe.parts > 1 ? options.stripe : null;
    const stripeWhere = stripe ? ` AND (file_row_number // ${STRIPE_LINES}) % ${stripe.parts} = ${stripe.part}` : '';
    // Row group by row group (DuckDB skips the other groups on the file_row_number range), so a
    // corrupt group costs its own rows only.
    for (const group of groups) {
      if (!groupInStripe(group, stripe)) continue;
      let lastRow = group.first; // 1-based number of the last row read; group.first = none yet
      try {
        const result = await connection.stream(`SELECT * FROM ${source} WHERE file_row_number BETWEEN ${group.first} AND ${group.first + group.rows - 1}${stripeWhere}`);
        for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
          const rows = chunk.getColumnValues(rowColumn) as bigint[];
          const texts = chunk.getColumnValues(text) as (string | null)[];
          const ids = id === -1 ? null : columns[id]!.convert(chunk, id);
          const metas = metaColumns.map((c) => columns[c.index]!.convert(chunk, c.index));
          for (let i = 0; i < chunk.rowCount; i++) {
            const row = Number(rows[i]) + 1;
            lastRow = row;
            const idValue = ids?.[i];
            const docId = idValue === null || idValue === undefined ? `${name}:${row}` : String(idValue);
            const t = texts[i];
            if (t === null || t === undefined) {
              yield { kind: 'error', where: { file, record: row }, id: docId, error: `row ${row} has a null "${options.textField}"` };
              continue;
            }
            // UTF-16 length bounds the UTF-8 size from below (x1) and above (x3): count bytes only near the limit.
            if (t.length * 3 > options.maxDocBytes && Buffer.byteLength(t) > options.maxDocBytes) {
              yield { kind: 'error', where: { file, record: row }, id: docId, error: `row ${row}: text is longer than max_doc_bytes (${options.maxDocBytes} bytes)`, raw: t.slice(0, 1024) };
              continue;
            }
            const meta: Record<string, unknown> = {};
            metaColumns.forEach((c, k) => {
              const merged = c.name === 'meta' || c.name === 'metadata' ? metaObject(metas[k]![i]) : null;
              if (merged) mergeFields(meta, merged);
              else setField(meta, c.name, metas[k]![i]);
            });
            yield { kind: 'doc', doc: { id: docId, text: t, meta }, where: { file, record: row } };
          }
        }
      } catch (e) {
        // A corrupt page: the rows of this group read before it have been yielded, and each row
        // it cost is one error item, so that the error count (and max_error_rate) weighs what
        // was lost, not the number of damaged groups. The next group is read as usual; each
        // stripe reports its own rows.
        const range = `rows ${group.first + 1}-${group.first + group.rows}`;
        const lost = lastRow === group.first ? 'none of its rows could be read' : `rows after ${lastRow} could not be read`;
        const problem = `row group ${group.index} (${range}) is corrupt, ${lost}${stripe ? ' by this stripe' : ''}: ${firstLine(e)}`;
        for (let row = lastRow + 1; row <= group.first + group.rows; row++) {
          if (!inStripe(row - 1, stripe ?? undefined)) continue;
          yield { kind: 'error', where: { file, record: row }, id: `${name}:${row}`, error: `row ${row} not read: ${problem}` };
        }
      }
    }
  } finally {
    connection.closeSync();
  }
}

interface RowGroup {
  index: number;
  /** 0-based number of its first row in the file. */
  first: number;
  rows: number;
}

/** The file's row groups in order, from its footer. */
async function rowGroups(connection: DuckDBConnection, file: string): Promise<RowGroup[]> {
  const reader = await connection.runAndReadAll(
    `SELECT row_group_id, any_value(row_group_num_rows) AS num_rows FROM parquet_metadata(${sqlString(file)}) GROUP BY row_group_id ORDER BY row_group_id`,
  );
  const groups: RowGroup[] = [];
  let first = 0;
  for (const [index, rows] of reader.getRows() as [bigint, bigint][]) {
    groups.push({ index: Number(index), first, rows: Number(rows) });
    first += Number(rows);
  }
  return groups;
}

/** Whether any row of the group falls in the stripe's batches. */
function groupInStripe(group: RowGroup, stripe: { part: number; parts: number } | null): boolean {
  if (!stripe || group.rows === 0) return group.rows > 0;
  const firstBatch = Math.floor(group.first / STRIPE_LINES);
  const lastBatch = Math.floor((group.first + group.rows - 1) / STRIPE_LINES);
  if (lastBatch - firstBatch + 1 >= stripe.parts) return true;
  for (let b = firstBatch; b <= lastBatch; b++) if (b % stripe.parts === stripe.part) return true;
  return false;
}

/** One converter per column, chosen once from its DuckDB type. */
function converterFor(type: DuckDBType): ConvertColumn {
  const js = (chunk: DuckDBDataChunk, column: number) => chunk.convertColumnValues(column, JSDuckDBValueConverter);
  const json = (chunk: DuckDBDataChunk, column: number) => chunk.convertColumnValues(column, JsonDuckDBValueConverter);
  switch (type.typeId) {
    case DuckDBTypeId.VARCHAR:
    case DuckDBTypeId.BOOLEAN:
    case DuckDBTypeId.TINYINT:
    case DuckDBTypeId.SMALLINT:
    case DuckDBTypeId.INTEGER:
    case DuckDBTypeId.UTINYINT:
    case DuckDBTypeId.USMALLINT:
    case DuckDBTypeId.UINTEGER:
      return js;
    // Exact decimal strings, YYYY-MM-DD dates, HH:MM:SS times, UUIDs, intervals, enums: DuckDB's JSON forms.
    case DuckDBTypeId.DECIMAL:
    case DuckDBTypeId.DATE:
    case DuckDBTypeId.TIME:
    case DuckDBTypeId.TIME_NS:
    case DuckDBTypeId.TIME_TZ:
    case DuckDBTypeId.UUID:
    case DuckDBTypeId.INTERVAL:
    case DuckDBTypeId.ENUM:
    case DuckDBTypeId.BIT:
      return json;
    case DuckDBTypeId.MAP:
      // DuckDB gives a map as [{ key, value }]: an object is what a JSON reader expects.
      return (chunk, column) =>
        js(chunk, column).map((entries) => (entries === null ? null : Object.fromEntries((entries as { key: unknown; value: unknown }[]).map((e) => [String(jsonSafe(e.key)), jsonSafe(e.value)]))));
    default:
      // 64-bit integers, floats, timestamps, blobs and nested types, made JSON-safe value by value.
      return (chunk, column) => js(chunk, column).map(jsonSafe);
  }
}

/** bigint: a number when exact, else a decimal string; Date: ISO 8601; bytes: base64; NaN/Infinity: null. */
function jsonSafe(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(jsonSafe);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, jsonSafe(x)]));
  return v;
}

/**
 * The object a `meta` or `metadata` column holds, merged into meta as the JSONL reader merges
 * such a field: a struct or map, or the JSON text of an object (what `output_format: parquet`
 * writes). Anything else stays a meta field of the column's name.
 */
function metaObject(v: unknown): Record<string, unknown> | null {
  if (typeof v === 'string') {
    if (!v.startsWith('{')) return null;
    try {
      v = JSON.parse(v);
    } catch {
      return null;
    }
  }
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : null;
}

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/** DuckDB messages carry the SQL text after the first line; the reader's user does not need it. */
function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
}
