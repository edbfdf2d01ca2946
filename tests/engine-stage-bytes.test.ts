import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { runStages } from '../pipeline/engine/run.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { readDocs } from '../pipeline/io/read.ts';
import { readJsonlDir } from './output-files.ts';

registerBuiltinStages();

const INPUTS = ['generated-lowquality', 'multilingual', 'email'].map((n) => resolve(`examples/corpus/${n}.jsonl.gz`));

test('bytes in and out of each stage are the UTF-8 lengths of the texts it saw and kept, after a mapper rewrote them', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'stage-bytes-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const out = join(dir, 'run');
  // c4 is a mapper: it removes lines, so the texts the next stages see are not the ones read.
  await runStages({ inputs: INPUTS, output: out, stages: [{ stage: 'c4' }, { stage: 'gopher-repetition' }, { stage: 'fineweb' }], quiet: true, workers: 1 });
  const stats = JSON.parse(await readFile(join(out, 'stats.json'), 'utf8')) as { read: { bytes: number }; stages: { name: string; bytes_in: number; bytes_out: number; kept: number; in: number }[] };
  let readBytes = 0;
  const readTexts = new Map<string, string>();
  for (const file of INPUTS) {
    for await (const it of readDocs(file)) {
      if (it.kind !== 'doc') continue;
      readBytes += Buffer.byteLength(it.doc.text);
      readTexts.set(it.doc.id, it.doc.text);
    }
  }
  assert.equal(stats.read.bytes, readBytes);
  assert.equal(stats.stages[0]!.bytes_in, readBytes);
  const c4 = stats.stages[0]!;
  assert.ok(c4.bytes_out < c4.bytes_in, 'c4 dropped some documents or lines');
  for (let i = 1; i < stats.stages.length; i++) assert.equal(stats.stages[i]!.bytes_in, stats.stages[i - 1]!.bytes_out, `${stats.stages[i]!.name} takes in what ${stats.stages[i - 1]!.name} kept`);
  const kept = await readJsonlDir<{ id: string; text: string }>(join(out, 'kept'));
  assert.ok(kept.some((d) => readTexts.get(d.id) !== d.text), 'c4 rewrote the text of some kept documents');
  assert.equal(stats.stages.at(-1)!.bytes_out, kept.reduce((a, d) => a + Buffer.byteLength(d.text), 0));
});
