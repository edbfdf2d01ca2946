/**
 * libphonenumber-js (the phone metadata, the largest thing the `pii` stage loads) is imported only
 * by a run whose pipeline names `pii`, as tests/startup-lazy.test.ts checks for the other heavy
 * dependencies; and a `pii` run replaces what it finds in the kept documents.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const root = join(import.meta.dirname, '..');
const TEXT = 'Write to jane.roe@gmail.com or call (212) 555-0123. A sentence follows it. And a third one ends it.';

async function run(stages: string): Promise<{ imports: string[]; dir: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-pii-lazy-'));
  await writeFile(join(dir, 'in.jsonl'), JSON.stringify({ id: 'a', text: TEXT }) + '\n');
  await writeFile(join(dir, 'p.yaml'), `inputs: [in.jsonl]\noutput: out\nstages: [${stages}]\n`);
  const record = join(dir, 'imports.txt');
  const r = spawnSync(process.execPath, [join(root, 'bin', 'refinery.mjs'), 'run', 'p.yaml', '-w', '1', '-q', '--no-report'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, RECORD_IMPORTS: record, NODE_OPTIONS: `--import ${join(root, 'tests', 'fixtures', 'startup', 'record-imports.mjs')}` },
  });
  assert.equal(r.status, 0, r.stderr);
  return { imports: (await readFile(record, 'utf8')).split('\n').filter(Boolean), dir };
}

const loadsPhoneMetadata = (imports: string[]) => imports.some((u) => u.includes('/node_modules/libphonenumber-js/'));

test('a run without pii does not load libphonenumber-js', async () => {
  const { imports } = await run('c4');
  assert.ok(!loadsPhoneMetadata(imports));
});

test('a pii run loads it and writes the placeholders and counts into the kept documents', async () => {
  const { imports, dir } = await run('pii');
  assert.ok(loadsPhoneMetadata(imports));
  const kept = join(dir, 'out', 'kept');
  const shard = (await readdir(kept)).find((f) => f.endsWith('.jsonl.gz'))!;
  const doc = JSON.parse(gunzipSync(await readFile(join(kept, shard))).toString('utf8').trim()) as { text: string; meta: { pii: Record<string, number> } };
  assert.equal(doc.text, 'Write to <EMAIL_ADDRESS> or call <PHONE_NUMBER>. A sentence follows it. And a third one ends it.');
  assert.equal(doc.meta.pii.email_address, 1);
  assert.equal(doc.meta.pii.phone_number, 1);
  assert.equal(doc.meta.pii.total, 2);
});
