/**
 * What people look at while a run goes: `refinery status` fits a terminal whatever the number of
 * phases and failures, and the progress by bytes (the input read, its rate, the time left) is
 * exact for finished shards and bounded for shards being read.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatStatus, type PhaseStatus, type RunStatus } from '../pipeline/queue/status.ts';
import { InputEstimate, inputLine } from '../pipeline/engine/progress.ts';

function phase(name: string, tasks: number, done: number, active = 0, failed = 0): PhaseStatus {
  return { name, tasks, done, active, failed, waiting: tasks - done - active - failed };
}

/** A run of a long pipeline (dedup's merge rounds and steps): 45 phases, the 21st under way, many failures. */
function bigRun(): RunStatus {
  const phases: PhaseStatus[] = [];
  for (let p = 0; p < 45; p++) phases.push(p < 20 ? phase(`phase ${p}`, 200, 200) : p === 20 ? phase('reduce minhash-dedup', 256, 100, 30, 2) : phase(`phase ${p}`, 200, 0));
  const problem = (i: number) => ({ task: `reduce-1-${String(i).padStart(5, '0')}`, attempts: 3, maxAttempts: 3, error: `disk full\n    at write (node:fs:1)\n${'x'.repeat(500)}` });
  return {
    run: '3f9c1e0a7b2d4c55', pipeline: 'p.yaml', output: 's3://b/out', state: 'running', phases,
    submittedAt: 0, startedAt: 1_000, finishedAt: null, docs: 5_000_000, bytes: 20e9,
    inputBytes: 10e9, inputRead: 2.5e9, tasksDone: 4100,
    held: Array.from({ length: 30 }, (_, i) => ({ task: `reduce-1-${String(i).padStart(5, '0')}`, host: `node-${i}`, pid: 100 + i, heartbeatAge: 1000, orphaned: i < 5 })),
    failures: Array.from({ length: 12 }, (_, i) => problem(i)),
    retrying: Array.from({ length: 9 }, (_, i) => problem(100 + i)),
  };
}

test('status fits a terminal: 45 phases, 30 tasks in flight, 21 failures in at most 20 lines of at most 300 characters', () => {
  const text = formatStatus(bigRun(), 61_000);
  const lines = text.split('\n');
  assert.ok(lines.length <= 20, `${lines.length} lines:\n${text}`);
  assert.ok(lines.every((l) => l.length <= 320), text);
  assert.match(text, /^phases: 20 of 45 done \(last: phase 19\)$/m);
  assert.match(text, /^ {2}reduce minhash-dedup +\[#####\.+\] +100\/256 done +30 active +124 waiting +2 failed$/m);
  assert.match(text, /^ {2}phase 21 +next, then 23 more phases$/m);
  assert.match(text, /^input \[######\.+\] +25% of input · 2\.50 GB of 10\.0 GB · 41\.7 MB\/s · ETA 3 min$/m);
  assert.match(text, /^ORPHANED reduce-1-00000: its worker node-0:100 sent no heartbeat for 1 s/m);
  assert.match(text, /^ {2}… and 9 more$/m);
  assert.match(text, /^FAILED reduce-1-00000 after 3 of 3 attempts: disk full$/m);
});

test('input read: finished shards exactly, shards being read by the ratio of file to text bytes seen, never past what is left', () => {
  const e = new InputEstimate(1000, 0.5);
  assert.equal(e.read(100), 50, 'before a shard finishes, the prior ratio');
  e.finished(300, 900);
  assert.equal(e.read(0), 300);
  assert.equal(e.read(90), 330, 'a third of a byte of file per byte of text, as the finished shard');
  assert.equal(e.read(1e9), 300 + 700 * 0.99, 'bounded below the total');
  assert.match(inputLine(300, 1000, 10), /^\[#######\.+\] +30% of input · 300 B of 1\.00 kB · 30 B\/s · ETA 23 s$/);
  assert.doesNotMatch(inputLine(1000, 1000, 10), /ETA/);
});
