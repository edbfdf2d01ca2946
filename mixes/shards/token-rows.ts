/**
 * The rows of a tokenized shard and their Arrow tables. Two layouts:
 * - document rows: `id`, `input_ids` (BOS, tokens, EOS), `num_tokens`, and the meta the mix needs
 *   (`source`, `language`, `category`, `quality`, `quality_band`; null when the document has none);
 * - packed rows: `input_ids` of exactly `seq_len` tokens cut from the concatenated documents,
 *   `offsets` (where each document segment starts in the row, first 0) and `doc_ids`.
 * Token lists are `list<int32>` with non-null items: what PyArrow, DuckDB and HF datasets read.
 */
import {
  Field, Float64, Int32, List, Table, Utf8, makeData, makeVector, vectorFromArray,
  type Vector,
} from 'apache-arrow';
import type { Doc } from '../../pipeline/doc.ts';

export interface DocumentRow {
  id: string;
  /** BOS, the document's tokens, EOS. */
  tokens: Int32Array;
  source: string | null;
  language: string | null;
  category: string | null;
  quality: number | null;
  quality_band: string | null;
}

export interface PackedRow {
  tokens: Int32Array;
  offsets: Int32Array;
  docIds: string[];
}

function text(v: unknown): string | null {
  if (typeof v === 'string' && v !== '') return v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return null;
}

/** A numeric score, or `{ score }`. */
function score(v: unknown): number | null {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (v !== null && typeof v === 'object' && 'score' in v) return score((v as { score: unknown }).score);
  return null;
}

export function documentRow(doc: Doc, tokens: Int32Array): DocumentRow {
  return {
    id: doc.id,
    tokens,
    source: text(doc.meta.source),
    language: text(doc.meta.language),
    category: text(doc.meta.category),
    // the quality stage writes a score to meta.quality, or a class label there and its probability to meta.quality_score
    quality: score(doc.meta.quality) ?? score(doc.meta.quality_score),
    quality_band: text(doc.meta.quality_band),
  };
}

/** A `list<int32>` vector whose items are the concatenation of `lists`, built without copies per item. */
export function int32ListVector(lists: readonly Int32Array[]): Vector<List<Int32>> {
  const offsets = new Int32Array(lists.length + 1);
  let total = 0;
  for (let i = 0; i < lists.length; i++) {
    total += lists[i]!.length;
    if (total > 0x7fffffff) throw new RangeError('a row group holds more than 2^31 tokens');
    offsets[i + 1] = total;
  }
  const values = new Int32Array(total);
  for (let i = 0; i < lists.length; i++) values.set(lists[i]!, offsets[i]!);
  const item = makeData({ type: new Int32(), length: total, nullCount: 0, data: values });
  const type = new List(new Field('item', new Int32(), false));
  return makeVector(makeData({ type, length: lists.length, nullCount: 0, valueOffsets: offsets, child: item }));
}

export function documentTable(rows: readonly DocumentRow[]): Table {
  return new Table({
    id: vectorFromArray(rows.map((r) => r.id), new Utf8()),
    input_ids: int32ListVector(rows.map((r) => r.tokens)),
    num_tokens: makeVector(Int32Array.from(rows, (r) => r.tokens.length)),
    source: vectorFromArray(rows.map((r) => r.source), new Utf8()),
    language: vectorFromArray(rows.map((r) => r.language), new Utf8()),
    category: vectorFromArray(rows.map((r) => r.category), new Utf8()),
    quality: vectorFromArray(rows.map((r) => r.quality), new Float64()),
    quality_band: vectorFromArray(rows.map((r) => r.quality_band), new Utf8()),
  });
}

export function packedTable(rows: readonly PackedRow[]): Table {
  return new Table({
    input_ids: int32ListVector(rows.map((r) => r.tokens)),
    offsets: int32ListVector(rows.map((r) => r.offsets)),
    doc_ids: vectorFromArray(rows.map((r) => r.docIds), new List(new Field('item', new Utf8(), false))),
    num_tokens: makeVector(Int32Array.from(rows, (r) => r.tokens.length)),
  });
}
