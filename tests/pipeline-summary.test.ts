import { test } from 'node:test';
import assert from 'node:assert/strict';
import { funnelMarkdown, emptyStageStats, totalsOf, type RunStats } from '../pipeline/stats.ts';
import { Progress } from '../pipeline/engine/progress.ts';
import { captureStderr, stderrOnTerminal } from './capture-stderr.ts';

function stats(): RunStats {
  const a = { ...emptyStageStats('langid', 'filter'), in: 1000, kept: 640, rejected: 360, bytes_in: 5_070_000, bytes_out: 4_060_000, seconds: 1.19, reasons: { language_score: 360 } };
  const b = { ...emptyStageStats('minhash-dedup', 'global'), in: 640, kept: 9, rejected: 631, bytes_in: 4_060_000, bytes_out: 10_000, seconds: 12.5, reasons: { minhash: 631 } };
  const read = { docs: 1000, errors: 0, bytes: 5_070_000 };
  return { totals: totalsOf(read, [a, b]), read, stages: [a, b] };
}

/** Positions of the pipes of each line of a table. */
const pipes = (line: string) => [...line].flatMap((c, i) => (c === '|' ? [i] : []));

test('the funnel tables are aligned Markdown: every row of a table has its pipes in the same columns', () => {
  const md = funnelMarkdown(stats());
  const tables = md.split('\n\n').map((b) => b.split('\n').filter((l) => l.startsWith('|'))).filter((t) => t.length);
  assert.equal(tables.length, 2);
  for (const table of tables) {
    const first = pipes(table[0]!);
    for (const row of table) assert.deepEqual(pipes(row), first, row);
  }
  assert.match(md, /\| minhash-dedup \| global \| +640 \| +9 \(1\.4%\) \|/);
  assert.match(md, /\|---+:\|/, 'number columns stay right-aligned in rendered Markdown');
});

test('a finished phase on a terminal shows no ETA', (t) => {
  const err = captureStderr(t);
  stderrOnTerminal(t);
  const p = new Progress();
  const first = { kind: 'map' as const, step: 1, index: 0 };
  const second = { ...first, index: 1 };
  p.startPhase('map minhash-dedup', [first, second], [first, second]);
  p.taskDone(0, first, 10, 100);
  const halfway = err.text();
  p.taskDone(1, second, 10, 100);
  p.endPhase();
  const finished = err.text().slice(halfway.length);
  assert.match(halfway, /1\/2 .*ETA \d+ s/);
  assert.match(finished, /2\/2/);
  assert.doesNotMatch(finished, /ETA/);
});
