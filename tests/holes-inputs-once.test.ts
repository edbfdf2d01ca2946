/**
 * Inputs are read once: paths that lead to one file (a symbolic link, a hard link, a folder
 * reached again through a link that loops back up) make one shard, with a note naming them; an
 * input that is a broken or looping link is refused saying so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { link, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { prepareConfig } from '../pipeline/config.ts';
import { expandInputs } from '../pipeline/engine/run-plan.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { readJsonlDir } from './output-files.ts';
import { tempDir } from './temp-dirs.ts';

registerBuiltinStages();

/** data/a.jsonl, b.jsonl → a.jsonl (symbolic), c.jsonl = a.jsonl (hard link), up → .. (a loop), other.jsonl. */
async function linkedFolder(): Promise<string> {
  const dir = await tempDir('refinery-holes-inputs-');
  const data = join(dir, 'data');
  await mkdir(data);
  await writeFile(join(data, 'a.jsonl'), '{"id":"a1","text":"one"}\n{"id":"a2","text":"two"}\n');
  await writeFile(join(data, 'other.jsonl'), '{"id":"o1","text":"three"}\n');
  await symlink('a.jsonl', join(data, 'b.jsonl'));
  await link(join(data, 'a.jsonl'), join(data, 'c.jsonl'));
  await symlink('..', join(data, 'up'));
  return dir;
}

test('a folder with links to one file gives that file once, and a note names the other paths', async () => {
  const dir = await linkedFolder();
  const config = await prepareConfig({ inputs: ['data'], output: 'out', stages: [] }, { file: join(dir, 'p.yaml'), baseDir: dir });
  const notes: string[] = [];
  const files = await expandInputs(config, (n) => notes.push(n));
  assert.deepEqual(files.map((f) => f.file), [join(dir, 'data', 'a.jsonl'), join(dir, 'data', 'other.jsonl')]);
  assert.equal(notes.length, 1);
  assert.equal(
    notes[0],
    '6 input paths lead to a file already listed (a symbolic or hard link, or a folder reached twice through a link), so each file is read once: ' +
      'data/b.jsonl (= data/a.jsonl), data/c.jsonl (= data/a.jsonl), data/up/data/a.jsonl (= data/a.jsonl), data/up/data/b.jsonl (= data/a.jsonl), data/up/data/c.jsonl (= data/a.jsonl) and 1 more',
  );
});

test('a run over a glob and a link to the same file reads each document once', async () => {
  const dir = await linkedFolder();
  await writeFile(join(dir, 'p.yaml'), 'inputs: ["data/**/*.jsonl", "data/b.jsonl"]\noutput: out\nworkers: 1\nstages: []\n');
  const r = spawnSync(process.execPath, [resolve('bin/refinery.mjs'), 'run', join(dir, 'p.yaml'), '-q', '--no-report'], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /^refinery: note: \d+ input paths lead to a file already listed/m);
  const kept = await readJsonlDir<{ id: string }>(join(dir, 'out', 'kept'));
  assert.deepEqual(kept.map((d) => d.id).sort(), ['a1', 'a2', 'o1']);
});

test('an input that is a looping or broken symbolic link is refused saying so', async () => {
  const dir = await tempDir('refinery-holes-inputs-loop-');
  await symlink('loop2.jsonl', join(dir, 'loop1.jsonl'));
  await symlink('loop1.jsonl', join(dir, 'loop2.jsonl'));
  await symlink('gone.jsonl', join(dir, 'dangling.jsonl'));
  const where = { file: join(dir, 'p.yaml'), baseDir: dir };
  const loop = await prepareConfig({ inputs: ['loop1.jsonl'], output: 'out', stages: [] }, where);
  await assert.rejects(expandInputs(loop), /p\.yaml: inputs\[0\]: .*loop1\.jsonl is a symbolic link \(to loop2\.jsonl\) that leads round in a loop/);
  const dangling = await prepareConfig({ inputs: ['dangling.jsonl'], output: 'out', stages: [] }, where);
  await assert.rejects(expandInputs(dangling), /p\.yaml: inputs\[0\]: .*dangling\.jsonl is a symbolic link to gone\.jsonl, which does not exist/);
});
