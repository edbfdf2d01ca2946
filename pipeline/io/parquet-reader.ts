/**
 * Streaming Parquet reader. parquet-wasm reads the file through a lazily read Blob
 * (`fs.openAsBlob`), so only the column chunks of the row group being decoded are in memory,
 * and hands over record batches of `BATCH_ROWS` rows; apache-arrow turns each batch into
 * JS values. The text column (`ReaderOptions.textField`) becomes `Doc.text`, the id column
 * (`idField`, optional) `Doc.id`, and every other column a JSON-safe value in `meta`.
 *
 * `options.stripe` (a large file shared by several tasks) selects rows by their index in the
 * file, as the JSONL reader selects lines; row groups with no row in the stripe are not decoded.
 *
 * A missing or non-string text column stops the run (InputError: every row would fail the same
 * way); a row whose text is null becomes an error item naming the file and the row (1-based).
 */
import { openAsBlob } from 'node:fs';
import { basename } from 'node:path';
import { DataType, tableFromIPC, type Field, type Table } from 'apache-arrow';
import { ParquetFile, type RecordBatch } from 'parquet-wasm/node';
import { InputError } from '../errors.ts';
import { inStripe, STRIPE_LINES, type ReadItem, type ReaderOptions } from './read-item.ts';

/** Rows per record batch: the unit that is converted to JS values at a time. */
const BATCH_ROWS = 1024;

type Convert = (value: unknown) => unknown;

export async function* readParquetDocs(file: string, options: ReaderOptions): AsyncGenerator<ReadItem> {
  const name = basename(file);
  let parquet: ParquetFile;
  let groupRows: number[];
  try {
    parquet = await ParquetFile.fromFile(await openAsBlob(file));
    groupRows = parquet.metadata().rowGroups().map((g) => g.numRows());
  } catch (e) {
    yield { kind: 'error', where: { file, offset: 0 }, error: `not a readable Parquet file: ${messageOf(e)}` };
    return;
  }
  try {
    let columns: ColumnPlan | null = null;
    let firstRow = 0; // 0-based index of the group's first row in the file
    for (const [group, rows] of groupRows.entries()) {
      const start = firstRow;
      firstRow += rows;
      // A task that reads one stripe of a large file decodes only the row groups it needs.
      if (!rangeInStripe(start, rows, options.stripe)) continue;
      let row = start;
      try {
        const reader = ((await parquet.stream({ batchSize: BATCH_ROWS, rowGroups: [group] })) as ReadableStream<RecordBatch>).getReader();
        for (let next = await reader.read(); !next.done; next = await reader.read()) {
          const table = tableFromIPC(next.value.intoIPCStream());
          columns ??= planColumns(file, table, options);
          const vectors = table.schema.fields.map((_, k) => table.getChildAt(k) as Column);
          for (let i = 0; i < table.numRows; i++) {
            row++;
            if (inStripe(row - 1, options.stripe)) yield rowToItem(vectors, i, row, columns, file, name, options);
          }
        }
      } catch (e) {
        if (e instanceof InputError) throw e;
        // A corrupt page: what came before has been yielded; the group's other rows cannot be read.
        if (inStripe(row, options.stripe)) {
          yield { kind: 'error', where: { file, record: row + 1 }, error: `cannot read rows ${row + 1}-${start + rows} (row group ${group}): ${messageOf(e)}` };
        }
      }
    }
  } finally {
    parquet.free();
  }
}

/** Whether any of the rows [start, start + count) belongs to the stripe. */
function rangeInStripe(start: number, count: number, stripe: ReaderOptions['stripe']): boolean {
  if (!stripe || stripe.parts <= 1) return true;
  const firstBatch = Math.floor(start / STRIPE_LINES);
  const lastBatch = Math.floor((start + count - 1) / STRIPE_LINES);
  if (lastBatch - firstBatch + 1 >= stripe.parts) return true;
  for (let b = firstBatch; b <= lastBatch; b++) if (b % stripe.parts === stripe.part) return true;
  return false;
}

interface ColumnPlan {
  text: number;
  id: number;
  meta: { name: string; index: number; convert: Convert }[];
}

function planColumns(file: string, table: Table, options: ReaderOptions): ColumnPlan {
  const fields = table.schema.fields;
  const names = fields.map((f) => f.name);
  const text = names.indexOf(options.textField);
  if (text === -1) {
    throw new InputError(file, {}, `no text column "${options.textField}" (columns: ${names.join(', ')}); set text_field to the column that holds the text`);
  }
  if (!DataType.isUtf8(fields[text].type) && !DataType.isLargeUtf8(fields[text].type)) {
    throw new InputError(file, {}, `text column "${options.textField}" has type ${String(fields[text].type)}, not a string`);
  }
  const id = names.indexOf(options.idField);
  const meta = fields.flatMap((f, index) => (index === text || index === id ? [] : [{ name: f.name, index, convert: converterFor(f) }]));
  return { text, id, meta };
}

/** The part of an Arrow vector the reader uses. */
interface Column {
  get(index: number): unknown;
}

function rowToItem(vectors: Column[], i: number, row: number, plan: ColumnPlan, file: string, name: string, options: ReaderOptions): ReadItem {
  const where = { file, record: row };
  const idValue = plan.id === -1 ? null : vectors[plan.id].get(i);
  const id = idValue === null || idValue === undefined ? `${name}:${row}` : typeof idValue === 'string' ? idValue : String(jsonSafe(idValue));
  const text: unknown = vectors[plan.text].get(i);
  if (typeof text !== 'string') {
    return { kind: 'error', where, id, error: `row ${row} has a null "${options.textField}"` };
  }
  // UTF-16 length bounds the UTF-8 size from below (x1) and above (x3): count bytes only near the limit.
  if (text.length * 3 > options.maxDocBytes && Buffer.byteLength(text) > options.maxDocBytes) {
    return { kind: 'error', where, id, error: `row ${row}: text is longer than max_doc_bytes (${options.maxDocBytes} bytes)`, raw: text.slice(0, 1024) };
  }
  const meta: Record<string, unknown> = {};
  for (const c of plan.meta) meta[c.name] = c.convert(vectors[c.index].get(i));
  if (options.source !== undefined && meta.source === undefined) meta.source = options.source;
  return { kind: 'doc', doc: { id, text, meta }, where };
}

/** One converter per column, chosen once from its Arrow type, so rows need no type tests. */
function converterFor(field: Field): Convert {
  const t = field.type as DataType;
  if (DataType.isDictionary(t)) return converterFor(fieldOf(field.name, t.dictionary));
  if (DataType.isInt(t) && t.bitWidth === 64) return nullable(bigintToJson);
  if (DataType.isDate(t)) {
    // apache-arrow gives dates as epoch milliseconds; a day-unit date is written as YYYY-MM-DD.
    const day = t.unit === 0;
    return nullable((v) => (day ? new Date(v as number).toISOString().slice(0, 10) : new Date(v as number).toISOString()));
  }
  if (DataType.isTimestamp(t)) return nullable((v) => isoOrNull(v as number));
  if (DataType.isTime(t)) return nullable((v) => timeOfDay(Number(v) / 1000 ** t.unit));
  if (DataType.isDecimal(t)) return nullable((v) => decimalToString(v, t.scale));
  if (DataType.isBinary(t) || DataType.isLargeBinary(t) || DataType.isFixedSizeBinary(t)) {
    return nullable((v) => Buffer.from(v as Uint8Array).toString('base64'));
  }
  if (DataType.isFloat(t)) return nullable((v) => (Number.isFinite(v as number) ? v : null));
  if (DataType.isList(t) || DataType.isFixedSizeList(t)) {
    const child = converterFor(t.children[0]);
    return nullable((v) => Array.from(v as Iterable<unknown>, child));
  }
  if (DataType.isStruct(t)) {
    const children = t.children.map((c) => ({ name: c.name, convert: converterFor(c) }));
    return nullable((v) => {
      const o: Record<string, unknown> = {};
      const r = v as Record<string, unknown>;
      for (const c of children) o[c.name] = c.convert(r[c.name]);
      return o;
    });
  }
  if (DataType.isMap(t)) {
    const [key, value] = t.children[0].type.children;
    const convertKey = converterFor(key);
    const convertValue = converterFor(value);
    return nullable((v) => {
      const o: Record<string, unknown> = {};
      for (const [k, x] of v as Iterable<[unknown, unknown]>) o[String(convertKey(k))] = convertValue(x);
      return o;
    });
  }
  return jsonSafe;
}

function fieldOf(name: string, type: DataType): Field {
  return { name, type, nullable: true } as Field;
}

function nullable(f: Convert): Convert {
  return (v) => (v === null || v === undefined ? null : f(v));
}

/** Exact as a number when it fits in 2^53, otherwise as a decimal string. */
function bigintToJson(v: unknown): unknown {
  if (typeof v !== 'bigint') return v;
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v.toString();
}

function isoOrNull(ms: number): string | null {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** Seconds since midnight as HH:MM:SS[.fraction]. */
function timeOfDay(seconds: number): string {
  const whole = Math.floor(seconds);
  const hms = [Math.floor(whole / 3600), Math.floor(whole / 60) % 60, whole % 60].map((n) => String(n).padStart(2, '0')).join(':');
  const fraction = seconds - whole;
  return fraction > 0 ? `${hms}${fraction.toFixed(6).slice(1).replace(/0+$/, '')}` : hms;
}

/** Arrow decimals arrive as little-endian 32-bit words of a two's-complement integer. */
function decimalToString(v: unknown, scale: number): string {
  const words = v as Uint32Array;
  let n = 0n;
  for (let w = words.length - 1; w >= 0; w--) n = (n << 32n) | BigInt(words[w]);
  const bits = BigInt(words.length * 32);
  if (words.length > 0 && words[words.length - 1] & 0x80000000) n -= 1n << bits;
  const negative = n < 0n;
  const digits = (negative ? -n : n).toString().padStart(scale + 1, '0');
  const s = scale > 0 ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return negative ? `-${s}` : s;
}

/** Fallback for the remaining types: plain values pass, bigints and typed arrays are made JSON-safe. */
function jsonSafe(v: unknown): unknown {
  if (typeof v === 'bigint') return bigintToJson(v);
  if (v instanceof Date) return v.toISOString();
  if (ArrayBuffer.isView(v)) return Array.from(v as unknown as ArrayLike<number | bigint>, (x) => bigintToJson(x));
  if (v !== null && typeof v === 'object' && typeof (v as { toJSON?: unknown }).toJSON === 'function') {
    return JSON.parse(JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? bigintToJson(x) : x))) as unknown;
  }
  return v;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
