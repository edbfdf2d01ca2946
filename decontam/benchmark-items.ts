/** Benchmark files: one JSON object per line, each an item whose text is checked for overlap with the corpus. */
import { readFile } from 'node:fs/promises';
import { InputError } from '../pipeline/errors.ts';

export interface BenchmarkItem {
  /** 0-based line of the benchmark file */
  index: number;
  id: string;
  text: string;
}

/**
 * A benchmark file (JSONL) as items: the text of `fields` joined by a newline, or, without
 * fields, every string value of the record but its `id`.
 */
export async function readBenchmark(file: string, fields: readonly string[] | undefined): Promise<BenchmarkItem[]> {
  const lines = (await readFile(file, 'utf8')).split('\n');
  const items: BenchmarkItem[] = [];
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let rec: Record<string, unknown>;
    try {
      rec = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new InputError(file, { line: index + 1 }, `not a JSON object (${(e as Error).message})`);
    }
    if (rec === null || typeof rec !== 'object' || Array.isArray(rec)) throw new InputError(file, { line: index + 1 }, 'not a JSON object');
    const values = fields ? fields.map((f) => rec[f]) : Object.entries(rec).filter(([k]) => k !== 'id').map(([, v]) => v);
    const text = values.map((v) => (typeof v === 'string' ? v : Array.isArray(v) ? v.filter((x) => typeof x === 'string').join('\n') : '')).join('\n');
    items.push({ index, id: typeof rec.id === 'string' || typeof rec.id === 'number' ? String(rec.id) : String(index), text });
  });
  return items;
}
