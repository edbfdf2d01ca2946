/**
 * `pii-sites`: a site (URL host) whose personal data per 1,000 characters, over all its documents
 * in every shard, exceeds `max_density` loses all its documents; a site with a single contact
 * line, or much text around its PII, keeps them. Run through `refinery run` on two shards.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

const root = join(import.meta.dirname, '..');

interface OutDoc {
  id: string;
  text: string;
  meta: Record<string, unknown> & { reject_reason?: string; pii_sites?: { host?: string; density?: number; threshold?: number; skipped?: string } };
}

const PROSE = 'The committee met again to review the plans for the new library building and its gardens. ';
// A directory: every entry a name and a phone number (made-up numbers), spread over both shards.
const directory = (i: number) => ({ id: `dir-${i}`, url: `https://people-finder.example/entry/${i}`, text: `Resident ${i}: (212) 555-01${String(10 + i)} and (415) 555-02${String(10 + i)}.` });
const contact = { id: 'contact', url: 'https://www.town-hall.example/contact', text: 'Town hall, Main Square 1. Write to clerk.office@gmail.com.' };
const essays = (i: number) => ({ id: `essay-${i}`, url: `https://essays.example/${i}`, text: PROSE.repeat(40) + (i === 0 ? 'Reach the editor at editor.desk@gmail.com or 312-555-0175, or the author at 617-555-0148.' : '') });
const noUrl = { id: 'no-url', text: 'Call (212) 555-0199 now.' };

async function runOn(stages: string): Promise<{ out: string; kept: OutDoc[]; rejected: OutDoc[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-pii-sites-'));
  const shard = (docs: object[]) => docs.map((d) => JSON.stringify(d)).join('\n') + '\n';
  await writeFile(join(dir, 'a.jsonl'), shard([directory(0), directory(1), contact, essays(0), noUrl]));
  await writeFile(join(dir, 'b.jsonl'), shard([directory(2), directory(3), essays(1), essays(2)]));
  await writeFile(join(dir, 'p.yaml'), `inputs: [a.jsonl, b.jsonl]\noutput: out\nreader: { id_field: id }\nstages: [${stages}]\n`);
  const r = spawnSync(process.execPath, [join(root, 'bin', 'refinery.mjs'), 'run', 'p.yaml', '-w', '1', '-q', '--no-report'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const read = async (sub: string) => {
    const docs: OutDoc[] = [];
    for (const f of (await readdir(join(dir, 'out', sub))).filter((f) => f.endsWith('.jsonl.gz')).sort()) {
      const text = gunzipSync(await readFile(join(dir, 'out', sub, f))).toString('utf8');
      for (const line of text.split('\n')) if (line) docs.push(JSON.parse(line) as OutDoc);
    }
    return docs;
  };
  return { out: join(dir, 'out'), kept: await read('kept'), rejected: await read('rejected') };
}

test('the documents of a site dense with personal data are dropped in every shard, with density and threshold', async () => {
  const { out, kept, rejected } = await runOn('pii-sites');
  assert.deepEqual(rejected.map((d) => d.id).sort(), ['dir-0', 'dir-1', 'dir-2', 'dir-3']);
  for (const d of rejected) {
    assert.equal(d.meta.reject_reason, 'pii-sites:pii_density');
    assert.equal(d.meta.pii_sites?.host, 'people-finder.example');
    assert.equal(d.meta.pii_sites?.threshold, 2);
    assert.ok(d.meta.pii_sites!.density! > 2);
  }
  const byId = new Map(kept.map((d) => [d.id, d]));
  // One address in a short page: dense, but below min_site_pii (3 items).
  assert.ok(byId.get('contact')!.meta.pii_sites!.density! > 2);
  // Three items, but in much text: below the density threshold.
  assert.ok(byId.get('essay-1')!.meta.pii_sites!.density! > 0 && byId.get('essay-1')!.meta.pii_sites!.density! < 2);
  assert.deepEqual(byId.get('no-url')!.meta.pii_sites, { skipped: 'no url' });
  const stats = JSON.parse(await readFile(join(out, 'stats', 'pii-sites.json'), 'utf8')) as Record<string, unknown>;
  assert.equal(stats.sites, 3);
  assert.equal(stats.sites_with_pii, 3);
  assert.equal(stats.sites_dropped, 1);
  assert.equal(stats.documents_dropped, 4);
});

test('after pii, the site filter counts what pii recorded (the text holds placeholders) and decides the same', async () => {
  const { kept, rejected } = await runOn('pii, pii-sites');
  assert.deepEqual(rejected.map((d) => d.id).sort(), ['dir-0', 'dir-1', 'dir-2', 'dir-3']);
  const essay = kept.find((d) => d.id === 'essay-0')!;
  assert.match(essay.text, /<EMAIL_ADDRESS> or <PHONE_NUMBER>, or the author at <PHONE_NUMBER>\.$/);
  assert.equal((essay.meta.pii as Record<string, number>).total, 3);
  const alone = await runOn('pii-sites');
  const density = (docs: OutDoc[], id: string) => docs.find((d) => d.id === id)!.meta.pii_sites!.density;
  // Characters are those of the text the stage sees: placeholders are not the length of what they replaced.
  assert.ok(Math.abs(density(kept, 'essay-0')! - density(alone.kept, 'essay-0')!) < 0.001);
});
