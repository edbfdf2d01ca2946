/**
 * Clean-up never follows a symbolic link out of the run's own folders (issue 24, item 8): stale
 * temporaries are removed only from the run's real folders, and a run refuses an output folder
 * whose run names (kept/, _work/ ...) are symbolic links, before it writes or deletes anything.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeStaleTemporaries } from '../pipeline/run-folder/folder-record.ts';
import { prepareConfig } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { RefineryError } from '../pipeline/errors.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';

registerBuiltinStages();

test('stale temporaries are removed from the run folders, never through a symbolic link', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-links-'));
  const mine = join(dir, 'users-files');
  const mine2 = join(dir, 'users-other-files');
  await mkdir(mine);
  await mkdir(mine2);
  // Names a run's writers give their temporaries: the user's files happen to look like them.
  await writeFile(join(mine, 'a.jsonl.123.abcdef.tmp'), 'keep me');
  await writeFile(join(mine2, 'b.jsonl.456.ghijkl.tmp'), 'keep me too');
  const out = join(dir, 'out');
  await mkdir(join(out, 'rejected'), { recursive: true });
  await mkdir(join(out, 'errors'), { recursive: true });
  await symlink(mine, join(out, 'kept'));
  await symlink(mine2, join(out, 'rejected', 'sub'));
  await writeFile(join(out, 'errors', 'shard-00000.jsonl.gz.99.zzzzzz.tmp'), 'stale');
  await removeStaleTemporaries(out);
  assert.deepEqual(await readdir(mine), ['a.jsonl.123.abcdef.tmp']);
  assert.deepEqual(await readdir(mine2), ['b.jsonl.456.ghijkl.tmp']);
  assert.deepEqual(await readdir(join(out, 'errors')), [], 'the run\'s own stale temporary is removed');
});

test('a run refuses an output folder whose kept/ is a symbolic link, and touches nothing through it', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-links-run-'));
  const mine = join(dir, 'elsewhere');
  await mkdir(mine);
  await writeFile(join(mine, 'precious.txt'), 'x');
  await writeFile(join(dir, 'in.jsonl'), '{"id":"1","text":"a few words of text here"}\n');
  const out = join(dir, 'out');
  await mkdir(out);
  await symlink(mine, join(out, 'kept'));
  const config = await prepareConfig({ inputs: ['in.jsonl'], output: 'out', stages: [] }, { file: join(dir, 'p.yaml'), baseDir: dir });
  for (const force of [false, true]) {
    await assert.rejects(runPipeline(config, { quiet: true, force }), (e: unknown) => e instanceof RefineryError && /kept is a symbolic link; a run writes and deletes only in folders of its own/.test(e.message));
  }
  assert.deepEqual(await readdir(mine), ['precious.txt']);
});
