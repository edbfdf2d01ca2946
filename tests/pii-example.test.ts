/**
 * examples/pii.yaml runs on the sample corpus: the counts of what `pii` replaced, and nothing
 * left for a second pass to find (a placeholder is never taken for personal data).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { piiOptions, piiSpansOf } from '../filters/pii.ts';
import type { Doc } from '../pipeline/doc.ts';

const root = join(import.meta.dirname, '..');

test('examples/pii.yaml replaces the sample corpus\'s personal data, and a second pass finds none', async () => {
  const out = join(await mkdtemp(join(tmpdir(), 'refinery-pii-example-')), 'out');
  const r = spawnSync(process.execPath, [join(root, 'bin', 'refinery.mjs'), 'run', join(root, 'examples', 'pii.yaml'), '-o', out, '-w', '2', '-q', '--no-report'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const totals: Record<string, number> = {};
  let docs = 0;
  for (const f of (await readdir(join(out, 'kept'))).filter((f) => f.endsWith('.jsonl.gz'))) {
    for (const line of gunzipSync(await readFile(join(out, 'kept', f))).toString('utf8').split('\n')) {
      if (!line) continue;
      const doc = JSON.parse(line) as Doc;
      docs++;
      for (const [k, v] of Object.entries(doc.meta.pii as Record<string, number>)) totals[k] = (totals[k] ?? 0) + v;
      assert.deepEqual(piiSpansOf(doc, piiOptions.parse({})), [], `${doc.id}: found again after replacement`);
      assert.equal((doc.meta.pii_sites as { threshold?: number; skipped?: string }).skipped ?? 'has url', doc.meta.url === undefined ? 'no url' : 'has url');
    }
  }
  assert.equal(docs, 343);
  assert.deepEqual(totals, { email_address: 397, phone_number: 60, ip_address: 100, credit_card: 0, iban: 0, us_ssn: 0, total: 557 });
});
