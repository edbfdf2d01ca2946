/**
 * A run that `refinery remove` took documents out of is not resumed: a rerun would write stats.json
 * and the report again from the tasks' markers, which still count the removed documents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runStages } from '../pipeline/engine/run.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { removeFromRun } from '../takedown/remove-run.ts';

const texts = [
  'The committee met on Tuesday to discuss the budget. Members agreed to publish the minutes next week. The chair thanked everyone for coming.',
  'Rain is expected across the region tomorrow. Farmers welcomed the forecast after a dry month. Roads may be slippery in the morning.',
  'The library extends its opening hours during exams. Students can borrow laptops at the front desk. Quiet rooms must be booked online.',
];

test('a run with removals is refused on rerun without --force, naming removals/; with --force it runs again whole', async () => {
  registerBuiltinStages();
  const dir = await mkdtemp(join(tmpdir(), 'refinery-rerun-removed-'));
  const input = join(dir, 'in.jsonl');
  await writeFile(input, texts.map((text, i) => JSON.stringify({ id: `doc-${i}`, text })).join('\n') + '\n');
  const output = join(dir, 'run');
  const run = (force: boolean) => runStages({ inputs: [input], output, stages: [{ stage: 'gopher-repetition' }], workers: 1, quiet: true, origin: 'takedown rerun test', ...(force ? { force } : {}) });
  await run(false);
  const before = JSON.parse(await readFile(join(output, 'stats.json'), 'utf8')) as { read: { docs: number } };
  assert.equal(before.read.docs, 3);
  await writeFile(join(dir, 'ids.txt'), 'doc-1\n');
  await removeFromRun(output, { ids: join(dir, 'ids.txt') });
  await assert.rejects(run(false), (e: Error) => /documents were removed from this run/.test(e.message) && /removals\//.test(e.message));
  await run(true);
  const after = JSON.parse(await readFile(join(output, 'stats.json'), 'utf8')) as { read: { docs: number } };
  assert.equal(after.read.docs, 3, 'a forced rerun on the same input reads every document again');
});
