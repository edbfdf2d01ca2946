/**
 * The `decontam` filter: documents of real text (State of the Union addresses of the sample
 * corpus) into which benchmark items were inserted are dropped, with the items named; the others
 * are kept; `mode: annotate` keeps them and tags them instead.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const root = join(import.meta.dirname, '..');

const ITEMS = [
  { id: 'fe', question: 'Which element has the chemical symbol Fe and is the main component of steel used in construction?', answer: 'Iron.' },
  { id: 'hex', question: 'How many sides does a regular hexagon have, and what is the sum of its interior angles in degrees?', answer: 'Six; 720.' },
  { id: 'never', question: 'Which simple machine is a sloping surface that makes it easier to raise a heavy load to a height?', answer: 'An inclined plane.' },
];

interface OutDoc {
  id: string;
  meta: { reject_reason?: string; decontam?: { items: string[]; shared: number; would_drop?: string } };
}

async function run(stage: string): Promise<{ kept: OutDoc[]; rejected: OutDoc[]; ids: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-decontam-stage-'));
  const speeches = gunzipSync(await readFile(join(root, 'examples', 'corpus', 'speeches.jsonl.gz'))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: string; text: string });
  // Item 0 verbatim into address 3, item 1 re-cased into address 20 (its question only: 19 words).
  speeches[3]!.text = speeches[3]!.text.replace('. ', `. ${ITEMS[0]!.question} ${ITEMS[0]!.answer} `);
  speeches[20]!.text += ' ' + ITEMS[1]!.question.toLowerCase();
  await writeFile(join(dir, 'in.jsonl'), speeches.map((s) => JSON.stringify({ id: s.id, text: s.text })).join('\n') + '\n');
  await writeFile(join(dir, 'evals.jsonl'), ITEMS.map((i) => JSON.stringify(i)).join('\n') + '\n');
  await writeFile(join(dir, 'p.yaml'), `inputs: [in.jsonl]\noutput: out\nstages:\n  - ${stage}\n`);
  const r = spawnSync(process.execPath, [join(root, 'bin', 'refinery.mjs'), 'run', 'p.yaml', '-w', '1', '-q', '--no-report'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const read = async (sub: string) => {
    const docs: OutDoc[] = [];
    for (const f of (await readdir(join(dir, 'out', sub))).filter((f) => f.endsWith('.jsonl.gz'))) {
      for (const line of gunzipSync(await readFile(join(dir, 'out', sub, f))).toString('utf8').split('\n')) if (line) docs.push(JSON.parse(line) as OutDoc);
    }
    return docs;
  };
  return { kept: await read('kept'), rejected: await read('rejected'), ids: speeches.map((s) => s.id) };
}

test('documents holding a benchmark item are dropped, naming it; the rest are kept', async () => {
  const { kept, rejected, ids } = await run('{ stage: decontam, options: { benchmarks: [evals.jsonl], fields: [question, answer] } }');
  assert.deepEqual(rejected.map((d) => d.id).sort(), [ids[3], ids[20]].sort());
  const byId = new Map(rejected.map((d) => [d.id, d]));
  assert.equal(byId.get(ids[3]!)!.meta.reject_reason, 'decontam:benchmark_overlap');
  assert.deepEqual(byId.get(ids[3]!)!.meta.decontam!.items, ['evals.jsonl:fe']);
  assert.deepEqual(byId.get(ids[20]!)!.meta.decontam!.items, ['evals.jsonl:hex']);
  assert.equal(kept.length, ids.length - 2);
  assert.ok(kept.every((d) => d.meta.decontam!.items.length === 0));
});

test('mode: annotate keeps them and tags them for a later select', async () => {
  const { kept, rejected, ids } = await run('{ stage: decontam, mode: annotate, options: { benchmarks: [evals.jsonl] } }');
  assert.equal(rejected.length, 0);
  const tagged = kept.filter((d) => d.meta.decontam!.would_drop !== undefined).map((d) => d.id);
  assert.deepEqual(tagged.sort(), [ids[3], ids[20]].sort());
});
