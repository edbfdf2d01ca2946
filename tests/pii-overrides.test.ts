/** `pii` per language (docs/filters.md): an override gives German documents German phone numbers and leaves the rest alone. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const root = join(import.meta.dirname, '..');

test('overrides: phone_regions [DE] for language de finds 030 1234567 there only', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-pii-overrides-'));
  const text = 'Ruf an: 030 1234567. Danke.';
  await writeFile(join(dir, 'in.jsonl'), [{ id: 'de', text, language: 'de' }, { id: 'en', text, language: 'en' }].map((d) => JSON.stringify(d)).join('\n') + '\n');
  await writeFile(join(dir, 'p.yaml'), 'inputs: [in.jsonl]\noutput: out\nstages:\n  - stage: pii\n    overrides: [{ when: { language: de }, options: { phone_regions: [DE] } }]\n');
  const r = spawnSync(process.execPath, [join(root, 'bin', 'refinery.mjs'), 'run', 'p.yaml', '-w', '1', '-q', '--no-report'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const kept = join(dir, 'out', 'kept');
  const docs = new Map<string, string>();
  for (const f of await readdir(kept)) {
    for (const line of gunzipSync(await readFile(join(kept, f))).toString('utf8').split('\n')) {
      if (line) docs.set((JSON.parse(line) as { id: string }).id, (JSON.parse(line) as { text: string }).text);
    }
  }
  assert.equal(docs.get('de'), 'Ruf an: <PHONE_NUMBER>. Danke.');
  assert.equal(docs.get('en'), text);
});
