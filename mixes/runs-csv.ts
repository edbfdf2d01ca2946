/**
 * `runs.csv` of proxy training runs: one row per run, `w_<domain>` columns hold the mixture
 * weights (normalised per row to sum to 1), `loss_<name>` columns the validation losses; other
 * columns (run id, notes) are ignored.
 */
import { readFile } from 'node:fs/promises';
import { CsvError, parse, type InfoRecord } from 'csv-parse/sync';
import { InputError } from '../pipeline/errors.ts';

export interface ProxyRuns {
  domains: string[];
  losses: string[];
  /** Per run: weights in `domains` order, summing to 1. */
  weights: number[][];
  /** Per run: loss per `losses` column. */
  loss: Record<string, number>[];
  /** Per run: the file line its row ends on. */
  lines: number[];
}

export interface CsvRow {
  /** 1-based line of the file where the row ends. */
  line: number;
  fields: string[];
}

/** Rows of fields (RFC 4180 quoting; any line ending; blank rows skipped), through csv-parse. */
export function parseCsv(text: string, file: string): CsvRow[] {
  try {
    const records = parse(text, {
      bom: true,
      info: true,
      record_delimiter: ['\r\n', '\n', '\r'],
      relax_column_count: true,
      skip_empty_lines: true,
      skip_records_with_empty_values: true,
    }) as unknown as { record: string[]; info: InfoRecord }[];
    return records.map((r) => ({ line: r.info.lines, fields: r.record }));
  } catch (e) {
    if (e instanceof CsvError) throw new InputError(file, typeof e.lines === 'number' ? { line: e.lines } : {}, `not valid CSV: ${e.message}`);
    throw e;
  }
}

export function parseProxyRuns(text: string, file = 'runs.csv', requireLoss = true): ProxyRuns {
  const rows = parseCsv(text, file);
  if (rows.length < 2) throw new InputError(file, {}, 'needs a header row and at least one run');
  const header = rows[0]!.fields.map((h) => h.trim());
  const wCols = header.flatMap((h, i) => (h.startsWith('w_') ? [i] : []));
  const lCols = header.flatMap((h, i) => (h.startsWith('loss_') ? [i] : []));
  const headerLine = rows[0]!.line;
  if (wCols.length < 2) throw new InputError(file, { line: headerLine }, 'needs at least two mixture weight columns named w_<domain>');
  if (requireLoss && lCols.length === 0) throw new InputError(file, { line: headerLine }, 'needs at least one loss column named loss_<name>');
  const domains = wCols.map((i) => header[i]!.slice(2));
  const losses = lCols.map((i) => header[i]!.slice(5));
  const weights: number[][] = [];
  const loss: Record<string, number>[] = [];
  const lines: number[] = [];
  for (const { line, fields: r } of rows.slice(1)) {
    const num = (i: number) => {
      const v = Number((r[i] ?? '').trim());
      if ((r[i] ?? '').trim() === '' || !Number.isFinite(v)) throw new InputError(file, { line }, `column ${header[i]} is not a number: "${r[i] ?? ''}"`);
      return v;
    };
    const w = wCols.map(num);
    if (w.some((x) => x < 0)) throw new InputError(file, { line }, 'mixture weights must not be negative');
    const sum = w.reduce((a, b) => a + b, 0);
    if (sum <= 0) throw new InputError(file, { line }, 'mixture weights add up to 0');
    weights.push(w.map((x) => x / sum));
    loss.push(Object.fromEntries(lCols.map((i, j) => [losses[j]!, num(i)])));
    lines.push(line);
  }
  return { domains, losses, weights, loss, lines };
}

export async function readProxyRuns(path: string, requireLoss = true): Promise<ProxyRuns> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InputError(path, {}, 'cannot read the file');
  }
  return parseProxyRuns(text, path, requireLoss);
}
