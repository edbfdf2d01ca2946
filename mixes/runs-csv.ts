/**
 * `runs.csv` of proxy training runs: one row per run, `w_<domain>` columns hold the mixture
 * weights (normalised per row to sum to 1), `loss_<name>` columns the validation losses; other
 * columns (run id, notes) are ignored.
 */
import { readFile } from 'node:fs/promises';
import { InputError } from '../pipeline/errors.ts';

export interface ProxyRuns {
  domains: string[];
  losses: string[];
  /** Per run: weights in `domains` order, summing to 1. */
  weights: number[][];
  /** Per run: loss per `losses` column. */
  loss: Record<string, number>[];
}

/** Splits CSV text into rows of fields; handles quoted fields with commas and doubled quotes. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      if (row.some((f) => f.trim() !== '')) rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  row.push(field);
  if (row.some((f) => f.trim() !== '')) rows.push(row);
  return rows;
}

export function parseProxyRuns(text: string, file = 'runs.csv', requireLoss = true): ProxyRuns {
  const rows = parseCsv(text);
  if (rows.length < 2) throw new InputError(file, {}, 'needs a header row and at least one run');
  const header = rows[0]!.map((h) => h.trim());
  const wCols = header.flatMap((h, i) => (h.startsWith('w_') ? [i] : []));
  const lCols = header.flatMap((h, i) => (h.startsWith('loss_') ? [i] : []));
  if (wCols.length < 2) throw new InputError(file, { line: 1 }, 'needs at least two mixture weight columns named w_<domain>');
  if (requireLoss && lCols.length === 0) throw new InputError(file, { line: 1 }, 'needs at least one loss column named loss_<name>');
  const domains = wCols.map((i) => header[i]!.slice(2));
  const losses = lCols.map((i) => header[i]!.slice(5));
  const weights: number[][] = [];
  const loss: Record<string, number>[] = [];
  rows.slice(1).forEach((r, k) => {
    const line = k + 2;
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
  });
  return { domains, losses, weights, loss };
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
