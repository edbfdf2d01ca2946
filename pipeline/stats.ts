/**
 * Counting: per stage documents and bytes in and out, drops per reason, errors and time, and the
 * accounting invariant (documents in = kept + rejected + errored) checked for every run.
 */
import { RefineryError } from './errors.ts';

export interface StageStats {
  name: string;
  kind: string;
  in: number;
  kept: number;
  rejected: number;
  errored: number;
  bytes_in: number;
  bytes_out: number;
  seconds: number;
  reasons: Record<string, number>;
}

/** The reading step: documents read, and records that could not be read (error output). */
export interface ReadStats {
  docs: number;
  errors: number;
  bytes: number;
}

export interface RunTotals {
  in: number;
  kept: number;
  rejected: number;
  errored: number;
}

/**
 * One executed phase of a run. `seconds` adds up its tasks' times (core-seconds, not wall time);
 * `max_task_peak_bytes` is the largest peak of heap plus array buffers that one of its tasks
 * reached; `rounds` is present for phases that run in rounds.
 */
export interface PhaseStats {
  stage: string;
  phase: string;
  tasks: number;
  seconds: number;
  max_task_peak_bytes: number;
  rounds?: number;
}

export interface RunStats {
  totals: RunTotals;
  read: ReadStats;
  stages: StageStats[];
  phases?: PhaseStats[];
}

export function emptyStageStats(name: string, kind: string): StageStats {
  return { name, kind, in: 0, kept: 0, rejected: 0, errored: 0, bytes_in: 0, bytes_out: 0, seconds: 0, reasons: {} };
}

export function addStageStats(into: StageStats, s: StageStats): void {
  into.in += s.in;
  into.kept += s.kept;
  into.rejected += s.rejected;
  into.errored += s.errored;
  into.bytes_in += s.bytes_in;
  into.bytes_out += s.bytes_out;
  into.seconds += s.seconds;
  for (const [r, n] of Object.entries(s.reasons)) into.reasons[r] = (into.reasons[r] ?? 0) + n;
}

export class AccountingError extends RefineryError {
  override name = 'AccountingError';
}

/**
 * Checks that every document is accounted for: per stage in = kept + rejected + errored, each
 * stage takes what the previous one kept, and the run's input equals its three outputs.
 * `keptWritten` is the number of documents actually written to kept/.
 */
export function checkAccounting(stats: RunStats, keptWritten: number): void {
  const problems: string[] = [];
  let flowing = stats.read.docs;
  for (const s of stats.stages) {
    if (s.in !== s.kept + s.rejected + s.errored) problems.push(`stage ${s.name}: in ${s.in} != kept ${s.kept} + rejected ${s.rejected} + errored ${s.errored}`);
    if (s.in !== flowing) problems.push(`stage ${s.name}: received ${s.in} documents but the previous step passed ${flowing}`);
    flowing = s.kept;
  }
  if (flowing !== keptWritten) problems.push(`kept/ holds ${keptWritten} documents but the last stage kept ${flowing}`);
  const t = stats.totals;
  if (t.in !== t.kept + t.rejected + t.errored) problems.push(`run: in ${t.in} != kept ${t.kept} + rejected ${t.rejected} + errored ${t.errored}`);
  if (problems.length) throw new AccountingError(`documents are unaccounted for:\n  ${problems.join('\n  ')}`);
}

export function totalsOf(read: ReadStats, stages: StageStats[]): RunTotals {
  const rejected = stages.reduce((a, s) => a + s.rejected, 0);
  const errored = read.errors + stages.reduce((a, s) => a + s.errored, 0);
  const kept = stages.length ? stages[stages.length - 1]!.kept : read.docs;
  return { in: read.docs + read.errors, kept, rejected, errored };
}

function pct(n: number, d: number): string {
  return d ? `${((100 * n) / d).toFixed(1)}%` : '–';
}

function mb(bytes: number): string {
  return (bytes / 1e6).toFixed(2);
}

/**
 * A Markdown table whose columns are padded to one width, so that it reads as a table on a
 * terminal as well as when rendered. `right[c]` aligns column c to the right (numbers).
 */
export function markdownTable(header: string[], right: boolean[], rows: string[][]): string[] {
  const widths = header.map((h, c) => Math.max(3, h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) => `| ${cells.map((v, c) => (right[c] ? v.padStart(widths[c]!) : v.padEnd(widths[c]!))).join(' | ')} |`;
  const rule = `|${widths.map((w, c) => (right[c] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)];
}

/** The funnel as Markdown: what each stage took in, kept and dropped, and why. */
export function funnelMarkdown(stats: RunStats): string {
  const t = stats.totals;
  const lines = [
    `Documents in: ${t.in} (read ${stats.read.docs}, unreadable ${stats.read.errors}); kept ${t.kept} (${pct(t.kept, t.in)}), rejected ${t.rejected}, errored ${t.errored}.`,
    '',
    ...markdownTable(
      ['stage', 'kind', 'in', 'kept', 'rejected', 'errored', 'MB in', 'MB out', 'seconds'],
      [false, false, true, true, true, true, true, true, true],
      stats.stages.map((s) => [s.name, s.kind, `${s.in}`, `${s.kept} (${pct(s.kept, s.in)})`, `${s.rejected}`, `${s.errored}`, mb(s.bytes_in), mb(s.bytes_out), s.seconds.toFixed(2)]),
    ),
  ];
  const reasons = stats.stages.flatMap((s) => Object.entries(s.reasons).map(([r, n]) => [`${s.name}:${r}`, n] as const));
  if (reasons.length) {
    const sorted = reasons.sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    lines.push('', ...markdownTable(['reject reason', 'documents'], [false, true], sorted.map(([r, n]) => [r, `${n}`])));
  }
  return lines.join('\n') + '\n';
}
