/**
 * `runs.csv` of scaling-law training runs: one row per run with `params` (N, non-embedding or
 * total, as the user counts them), `tokens` (D) or `flops` (C, and then D = C / 6N), and the
 * final validation loss in `loss` or in several `loss_<name>` columns. `run` names the row;
 * `w_<domain>`, `nll_<task>` and `acc_<task>` columns are kept for the mix and downstream fits.
 */
import { readFile } from 'node:fs/promises';
import { InputError, RefineryError } from '../../pipeline/errors.ts';
import { parseCsv } from '../runs-csv.ts';

export interface ScalingRun {
  /** The `run` column, else the file line. */
  name: string;
  /** 1-based line of the file the row ends on. */
  line: number;
  params: number;
  tokens: number;
  /** `flops` when given, else 6 · params · tokens. */
  flops: number;
  /** Every loss column: `loss` under the name `loss`, `loss_<name>` under `<name>`. */
  losses: Record<string, number>;
  weights: Record<string, number>;
  nll: Record<string, number>;
  acc: Record<string, number>;
}

export interface ScalingRuns {
  file: string;
  runs: ScalingRun[];
  /** Names of the loss columns, in file order (`loss` for a bare `loss` column). */
  lossNames: string[];
}

function prefixed(header: string[], prefix: string): { index: number; name: string }[] {
  return header.flatMap((h, index) => (h.startsWith(prefix) && h.length > prefix.length ? [{ index, name: h.slice(prefix.length) }] : []));
}

/** `requireLoss: false` reads a file of runs to predict (`params` and `tokens` or `flops` only). */
export function parseScalingRuns(text: string, file = 'runs.csv', requireLoss = true): ScalingRuns {
  const rows = parseCsv(text, file);
  if (rows.length < 2) throw new InputError(file, {}, 'needs a header row and at least one run');
  const header = rows[0]!.fields.map((h) => h.trim());
  const headerLine = rows[0]!.line;
  const col = (name: string) => header.indexOf(name);
  if (col('params') < 0) throw new InputError(file, { line: headerLine }, 'missing column "params" (parameters of each run)');
  if (col('tokens') < 0 && col('flops') < 0) throw new InputError(file, { line: headerLine }, 'missing column "tokens" (training tokens of each run), or "flops" to derive them as flops / (6 · params)');
  const lossCols = [...(col('loss') >= 0 ? [{ index: col('loss'), name: 'loss' }] : []), ...prefixed(header, 'loss_')];
  if (requireLoss && lossCols.length === 0) throw new InputError(file, { line: headerLine }, 'missing column "loss" (or loss_<name> columns): the final validation loss of each run');
  const wCols = prefixed(header, 'w_');
  const nllCols = prefixed(header, 'nll_');
  const accCols = prefixed(header, 'acc_');
  const runs: ScalingRun[] = [];
  for (const { line, fields } of rows.slice(1)) {
    const num = (i: number, positive: boolean): number => {
      const raw = (fields[i] ?? '').trim();
      const v = Number(raw);
      if (raw === '' || !Number.isFinite(v)) throw new InputError(file, { line }, `column ${header[i]} is not a number: "${fields[i] ?? ''}"`);
      if (positive && v <= 0) throw new InputError(file, { line }, `column ${header[i]} must be above 0, is ${raw}`);
      return v;
    };
    const params = num(col('params'), true);
    const flops = col('flops') >= 0 ? num(col('flops'), true) : undefined;
    const tokens = col('tokens') >= 0 ? num(col('tokens'), true) : flops! / (6 * params);
    const named = (cols: { index: number; name: string }[], positive: boolean) => Object.fromEntries(cols.map((c) => [c.name, num(c.index, positive)]));
    runs.push({
      name: col('run') >= 0 ? (fields[col('run')] ?? '').trim() : `line ${line}`,
      line,
      params,
      tokens,
      flops: flops ?? 6 * params * tokens,
      losses: named(lossCols, true),
      weights: named(wCols, false),
      nll: named(nllCols, true),
      acc: named(accCols, false),
    });
  }
  return { file, runs, lossNames: lossCols.map((c) => c.name) };
}

export async function readScalingRuns(path: string, requireLoss = true): Promise<ScalingRuns> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new InputError(path, {}, 'cannot read the file');
  }
  return parseScalingRuns(text, path, requireLoss);
}

/** The loss to fit: the named column, the only one, or an error that lists the choices. */
export function targetLoss(runs: ScalingRuns, target?: string): { name: string; y: number[] } {
  const name = target ?? (runs.lossNames.length === 1 ? runs.lossNames[0]! : undefined);
  if (name === undefined) throw new RefineryError(`${runs.file} has several loss columns (${runs.lossNames.join(', ')}): choose one with --target <name>`);
  if (!runs.lossNames.includes(name)) throw new RefineryError(`${runs.file} has no loss column "${name === 'loss' ? 'loss' : `loss_${name}`}"; it has ${runs.lossNames.map((l) => (l === 'loss' ? 'loss' : `loss_${l}`)).join(', ')}`);
  return { name, y: runs.runs.map((r) => r.losses[name]!) };
}
