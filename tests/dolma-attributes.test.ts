/**
 * `output_format: dolma` writes the stages' measurements as the Dolma attribute set `refinery`
 * beside the documents: `attributes/refinery/<same file name>`, one line per document in the same
 * order, each number or boolean of `meta` as a whole-document span `[0, code points, value]`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { spawnSync } from 'node:child_process';
import { dolmaAttributes } from '../pipeline/io/document-layout.ts';

const BIN = resolve('bin/refinery.mjs');
const PLUGIN = resolve('tests/fixtures/core/test-stages.ts');

type Line = Record<string, unknown>;
type Attributes = { id: string; source: string; attributes: Record<string, [number, number, number][]> };

function refinery(args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 180_000 });
}

async function load(path: string): Promise<Line[]> {
  return gunzipSync(await readFile(path)).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Line);
}

const RECORDS = [
  { id: 'a', text: 'the river runs down to the sea and the boats go out with the tide', source: 'web', quality: 0.8 },
  { id: 'b', text: 'hi', source: 'web' },
  // an emoji is two UTF-16 units but one code point: Dolma's offsets are Python's
  { id: 'c', text: 'a page 🌊 about the waves and the wind on the water of the bay', language_score: 0.93, flagged: true },
  { id: 'd', text: 'one two', source: 'books' },
];

async function dolmaRun(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-dolma-attr-'));
  await mkdir(join(dir, 'data'));
  await writeFile(join(dir, 'data', 'a.jsonl'), RECORDS.map((r) => JSON.stringify(r)).join('\n') + '\n');
  await writeFile(
    join(dir, 'p.yaml'),
    [
      'inputs: ["data/*.jsonl"]',
      'output: out',
      'workers: 1',
      `plugins: ["${PLUGIN}"]`,
      'output_format: dolma',
      'stages:',
      '  - stage: gopher-quality',
      '    options: {min_doc_words: 3}',
      '    mode: annotate',
      '  - poison',
      '',
    ].join('\n'),
  );
  const r = refinery(['run', join(dir, 'p.yaml'), '-q', '--no-report']);
  assert.equal(r.status, 0, r.stderr);
  return dir;
}

/** The numbers and booleans of a Dolma document's metadata and top-level fields, as attribute names. */
function expectedAttributes(doc: Line): Map<string, number> {
  const want = new Map<string, number>();
  const walk = (path: string[], v: unknown) => {
    if (typeof v === 'number') want.set(path.join('__'), v);
    else if (typeof v === 'string' && path.at(-1) === 'would_drop') want.set(`${path.join('__')}__${v.replace(/[^A-Za-z0-9_]/g, '_')}`, 1);
    else if (typeof v === 'boolean') want.set(path.join('__'), v ? 1 : 0);
    else if (v && typeof v === 'object' && !Array.isArray(v)) for (const [k, x] of Object.entries(v)) walk([...path, k], x);
  };
  for (const [k, v] of Object.entries(doc.metadata as Line)) {
    if (k === 'reject_reason') want.set(`refinery__reject_reason__${String(v).replace(/[^A-Za-z0-9_]/g, '_')}`, 1);
    else if (v && typeof v === 'object') walk(['refinery', k], v);
    else walk(['refinery', 'meta', k], v);
  }
  return want;
}

test('a dolma run writes attributes/refinery/ beside documents/, line for line, spans over the whole text, values from meta', async () => {
  const dir = await dolmaRun();
  const out = join(dir, 'out');
  for (const folder of ['kept', 'rejected']) {
    assert.deepEqual((await readdir(join(out, folder))).sort(), ['attributes', 'documents'], folder);
    assert.deepEqual(await readdir(join(out, folder, 'attributes')), ['refinery'], folder);
    const names = (await readdir(join(out, folder, 'documents'))).sort();
    assert.deepEqual((await readdir(join(out, folder, 'attributes', 'refinery'))).sort(), names, `${folder}: same file names`);
    for (const name of names) {
      const docs = await load(join(out, folder, 'documents', name));
      const attrs = (await load(join(out, folder, 'attributes', 'refinery', name))) as unknown as Attributes[];
      assert.deepEqual(attrs.map((a) => a.id), docs.map((d) => d.id), `${folder}/${name}: ids line up`);
      for (const [i, a] of attrs.entries()) {
        const doc = docs[i]!;
        assert.equal(a.source, doc.source);
        const end = [...(doc.text as string)].length;
        for (const [k, spans] of Object.entries(a.attributes)) {
          assert.equal(k.split('__').length >= 3, true, `${k}: Dolma splits names into experiment, tagger, type`);
          assert.deepEqual(spans.map((s) => [s[0], s[1]]), [[0, end]], `${doc.id} ${k} covers the text`);
        }
        const got = new Map(Object.entries(a.attributes).map(([k, s]) => [k, s[0]![2]]));
        assert.deepEqual(got, expectedAttributes(doc), `${doc.id}: values equal meta`);
      }
    }
  }

  const kept = (await load(join(out, 'kept', 'attributes', 'refinery', 'shard-00000.jsonl.gz'))) as unknown as Attributes[];
  const keptDocs = await load(join(out, 'kept', 'documents', 'shard-00000.jsonl.gz'));
  assert.deepEqual(kept.map((a) => a.id), ['a', 'c', 'd']);
  const a = kept[0]!.attributes;
  const aMeta = (keptDocs[0]!.metadata as { gopher_quality: Record<string, number> }).gopher_quality;
  assert.deepEqual(a.refinery__gopher_quality__words, [[0, RECORDS[0]!.text.length, aMeta.words]]);
  assert.equal(aMeta.words, 15);
  assert.deepEqual(a.refinery__meta__quality, [[0, RECORDS[0]!.text.length, 0.8]]);
  const c = kept[1]!.attributes;
  assert.equal(RECORDS[2]!.text.length, [...RECORDS[2]!.text].length + 1);
  assert.deepEqual(c.refinery__meta__language_score, [[0, [...RECORDS[2]!.text].length, 0.93]]);
  assert.deepEqual(c.refinery__meta__flagged, [[0, [...RECORDS[2]!.text].length, 1]]);
  // 'one two' is kept by annotate mode: its measurements are attributes, and so is the rule it
  // would have broken, as a category (it stays in metadata too)
  assert.deepEqual(kept[2]!.attributes.refinery__gopher_quality__words, [[0, 7, 2]]);
  assert.equal((keptDocs[2]!.metadata as { gopher_quality: Record<string, unknown> }).gopher_quality.would_drop, 'short_doc');
  assert.deepEqual(kept[2]!.attributes.refinery__gopher_quality__would_drop__short_doc, [[0, 7, 1]]);
  assert.equal(kept[0]!.attributes.refinery__gopher_quality__would_drop__short_doc, undefined, 'only where the stage would have dropped');
  assert.equal(kept[2]!.source, 'books');

  const rejected = (await load(join(out, 'rejected', 'attributes', 'refinery', 'shard-00000.jsonl.gz'))) as unknown as Attributes[];
  assert.deepEqual(rejected.map((r) => [r.id, r.attributes.refinery__reject_reason__poison_too_short]), [['b', [[0, 2, 1]]]]);

  // a second run resumes: nothing is rewritten
  const before = await readFile(join(out, 'kept', 'attributes', 'refinery', 'shard-00000.jsonl.gz'));
  const again = refinery(['run', join(dir, 'p.yaml'), '-q', '--no-report']);
  assert.equal(again.status, 0, again.stderr);
  assert.deepEqual(await readFile(join(out, 'kept', 'attributes', 'refinery', 'shard-00000.jsonl.gz')), before);
  assert.deepEqual((await readdir(join(out, 'kept', 'attributes', 'refinery'))), ['shard-00000.jsonl.gz'], 'no temporary file left');
});

test('dolmaAttributes: numbers and booleans at any depth, reject_reason and would_drop as categories, non-finite numbers, other strings and arrays left out', () => {
  const line = dolmaAttributes({
    id: 'x',
    text: 'ab',
    meta: { source: 7, n: 1, deep: { a: { b: false }, s: 'text', list: [1, 2] }, nan: Number.NaN, url: 'u', reject_reason: 'f:r-1', c4: { would_drop: 'lorem-ipsum', would_drop_detail: 'x' } },
  });
  assert.deepEqual(line, {
    id: 'x',
    source: 'unknown',
    attributes: {
      refinery__meta__source: [[0, 2, 7]],
      refinery__meta__n: [[0, 2, 1]],
      refinery__deep__a__b: [[0, 2, 0]],
      refinery__reject_reason__f_r_1: [[0, 2, 1]],
      refinery__c4__would_drop__lorem_ipsum: [[0, 2, 1]],
    },
  });
});
