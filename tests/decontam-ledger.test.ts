/**
 * The contamination ledger (decontam/): a run whose pipeline ends with `decontam-index` can be
 * checked against a benchmark afterwards, from the ledger alone. Benchmark-like items (written for
 * this test) are inserted into real text (State of the Union addresses of the sample corpus,
 * public domain) at known places, some with their case and punctuation changed; the check must
 * find each in the document it was put in (recall), find nothing for the items that were not
 * inserted (false hits), and find two sentences the addresses really contain. Its cost is counted
 * in ledger records read: it grows with the benchmark, and barely with the corpus.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { checkContamination } from '../decontam/check.ts';
import { readBenchmark } from '../decontam/benchmark-items.ts';

const root = join(import.meta.dirname, '..');
const corpus = join(root, 'examples', 'corpus');

const ITEMS: [string, string][] = [
  ['Which element has the chemical symbol Fe and is the main component of steel used in construction?', 'Iron is the element with the symbol Fe.'],
  ['What is the name of the process by which green plants turn sunlight, water and carbon dioxide into sugar?', 'The process is called photosynthesis.'],
  ['How many sides does a regular hexagon have, and what is the sum of its interior angles in degrees?', 'Six sides, and the angles add up to 720 degrees.'],
  ['Which planet of the solar system is known for the large red storm that has lasted for centuries?', 'Jupiter has the Great Red Spot.'],
  ['In which organ of the human body is insulin produced by clusters of cells called islets?', 'Insulin is produced in the pancreas.'],
  ['What is the freezing point of pure water at sea level on the Fahrenheit temperature scale?', 'Pure water freezes at 32 degrees Fahrenheit.'],
  ['Which author wrote the novel in which a whaling captain named Ahab hunts a white whale?', 'Herman Melville wrote Moby-Dick.'],
  ['What do we call the imaginary line that divides the earth into the northern and southern hemispheres?', 'That line is the equator.'],
  ['If a train travels at sixty miles per hour for two and a half hours, how far does it go?', 'It travels one hundred and fifty miles.'],
  ['Which gas makes up the largest share of the air that we breathe in the lower atmosphere of the earth?', 'Nitrogen makes up about seventy eight percent.'],
  ['What is the smallest prime number that is greater than fifty, and is it odd or even?', 'Fifty three is that prime, and it is odd.'],
  ['Which instrument with eighty eight keys can be played by striking hammers against strings inside its case?', 'The piano has eighty eight keys.'],
  ['What is the capital city of the country whose flag shows a red maple leaf between two red bands?', 'Ottawa is the capital of Canada.'],
  ['Which part of a flowering plant usually develops into the fruit after the flower has been pollinated?', 'The ovary develops into the fruit.'],
  ['How many minutes are there in a full day of twenty four hours, counting every hour of it?', 'There are one thousand four hundred and forty minutes.'],
  ['Which metal is liquid at room temperature and was once used in most glass thermometers in homes?', 'Mercury is liquid at room temperature.'],
  ['What is the name of the longest bone in the human body, found between the hip and the knee?', 'The femur is the longest bone.'],
  ['Which ocean lies between the continents of Africa and Australia and washes the shores of India?', 'The Indian Ocean lies between them.'],
  ['What do bees collect from flowers to make honey, and where in the hive do they store it?', 'Bees collect nectar and store honey in wax cells.'],
  ['Which simple machine is a sloping surface that makes it easier to raise a heavy load to a height?', 'An inclined plane is that machine.'],
];

interface Speech {
  id: string;
  text: string;
}

/** The items inserted: item index -> speech index, and whether it goes in as written or re-cased and re-punctuated. */
const INSERTED: [number, number, 'verbatim' | 'changed'][] = [
  [0, 1, 'verbatim'], [1, 4, 'changed'], [2, 7, 'verbatim'], [3, 10, 'changed'], [4, 13, 'verbatim'],
  [5, 21, 'changed'], [6, 24, 'verbatim'], [7, 27, 'changed'], [8, 30, 'verbatim'], [9, 35, 'changed'],
];

const changed = (s: string) => s.toUpperCase().replace(/[?,.]/g, ' ; ');

async function speeches(): Promise<Speech[]> {
  return gunzipSync(await readFile(join(corpus, 'speeches.jsonl.gz'))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Speech);
}

/** Speeches with the items inserted in the middle of the text, at a sentence end. */
function withItems(all: Speech[]): Speech[] {
  return all.map((s, i) => {
    const hit = INSERTED.find(([, speech]) => speech === i);
    if (!hit) return s;
    const [item, , how] = hit;
    const qa = `${ITEMS[item]![0]} ${ITEMS[item]![1]}`;
    const at = s.text.indexOf('. ', Math.floor(s.text.length / 2)) + 2;
    return { id: s.id, text: s.text.slice(0, at) + (how === 'verbatim' ? qa : changed(qa)) + ' ' + s.text.slice(at) };
  });
}

async function runLedger(dir: string, inputs: string[]): Promise<string> {
  const yaml = [`inputs: [${inputs.map((i) => JSON.stringify(i)).join(', ')}]`, 'output: out', 'stages:', '  - stage: decontam-index', '    options: { partitions: 4 }'].join('\n');
  await writeFile(join(dir, 'p.yaml'), yaml + '\n');
  const r = spawnSync(process.execPath, [join(root, 'bin', 'refinery.mjs'), 'run', 'p.yaml', '-w', '2', '-q', '--no-report'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return join(dir, 'out');
}

async function fixture(): Promise<{ dir: string; docs: Speech[]; benchmark: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-decontam-'));
  const docs = withItems(await speeches());
  const half = Math.ceil(docs.length / 2);
  await writeFile(join(dir, 'a.jsonl'), docs.slice(0, half).map((d) => JSON.stringify(d)).join('\n') + '\n');
  await writeFile(join(dir, 'b.jsonl'), docs.slice(half).map((d) => JSON.stringify(d)).join('\n') + '\n');
  // Two items the addresses really contain: 30 words from two of them, as a question and no answer.
  const real = [2, 33].map((i) => docs[i]!.text.split(' ').slice(200, 230).join(' '));
  const lines = [...ITEMS.map(([question, answer], i) => ({ id: `q${i}`, question, answer, source: 'written for this test' })), ...real.map((question, i) => ({ id: `real${i}`, question, answer: '' }))];
  const benchmark = join(dir, 'evals.jsonl');
  await writeFile(benchmark, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  return { dir, docs, benchmark };
}

test('every inserted item is found in the document it was put in, and the others nowhere', async () => {
  const { dir, docs, benchmark } = await fixture();
  const run = await runLedger(dir, ['a.jsonl', 'b.jsonl']);
  const manifest = JSON.parse(await readFile(join(run, 'decontam', 'manifest.json'), 'utf8')) as { n: number; documents: number; partitions: number };
  assert.deepEqual([manifest.n, manifest.documents, manifest.partitions], [13, docs.length, 4]);
  const { items } = await checkContamination(run, await readBenchmark(benchmark, ['question', 'answer']));
  for (const [item, speech, how] of INSERTED) {
    const r = items[item]!;
    assert.equal(r.overlap, 1, `q${item} (${how}): ${r.found} of ${r.ngrams} n-grams found`);
    assert.equal(r.documents[0]!.id, docs[speech]!.id, `q${item} is in ${docs[speech]!.id}`);
    assert.equal(r.documents[0]!.overlap, 1);
  }
  for (let i = 0; i < ITEMS.length; i++) {
    if (INSERTED.some(([item]) => item === i)) continue;
    assert.deepEqual([items[i]!.found, items[i]!.documents], [0, []], `q${i} was not inserted`);
  }
  assert.equal(items[20]!.documents[0]!.id, docs[2]!.id);
  assert.equal(items[21]!.documents[0]!.id, docs[33]!.id);
  assert.equal(items[20]!.overlap, 1);
});

/** The words of `text` in a seeded order: as many new n-grams as the text has, none of the benchmark's. */
function shuffledWords(text: string, seed: number): string {
  const words = text.split(' ');
  let state = seed;
  for (let i = words.length - 1; i > 0; i--) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    const j = state % (i + 1);
    [words[i], words[j]] = [words[j]!, words[i]!];
  }
  return words.join(' ');
}

test('the check reads records in proportion to the benchmark; a corpus 10 times larger adds a few binary-search steps per n-gram', async () => {
  const { dir, docs, benchmark } = await fixture();
  const small = await runLedger(dir, ['a.jsonl', 'b.jsonl']);
  const bigDir = await mkdtemp(join(tmpdir(), 'refinery-decontam-big-'));
  for (const f of ['a.jsonl', 'b.jsonl']) await writeFile(join(bigDir, f), await readFile(join(dir, f)));
  const copies: string[] = [];
  for (let k = 1; k <= 9; k++) {
    copies.push(`shuffled-${k}.jsonl`);
    await writeFile(join(bigDir, `shuffled-${k}.jsonl`), docs.map((d) => JSON.stringify({ id: `${d.id}:shuffled-${k}`, text: shuffledWords(d.text, k) })).join('\n') + '\n');
  }
  const big = await runLedger(bigDir, ['a.jsonl', 'b.jsonl', ...copies]);
  const items = await readBenchmark(benchmark, ['question', 'answer']);
  const records = async (run: string) => (JSON.parse(await readFile(join(run, 'decontam', 'manifest.json'), 'utf8')) as { records: number }).records;
  assert.ok((await records(big)) > 9 * (await records(small)), `${await records(big)} vs ${await records(small)} records`);
  const half = await checkContamination(small, items.slice(0, 11));
  const whole = await checkContamination(small, items);
  const onBig = await checkContamination(big, items);
  assert.ok(whole.recordsRead > 1.6 * half.recordsRead, `${whole.recordsRead} vs ${half.recordsRead} records read for 22 and 11 items`);
  // A scan would read 10 times as much; a binary search reads about log2(10) = 3.3 more records per n-gram.
  const lookups = items.reduce((n, it) => n + Math.max(0, it.text.split(/\s+/).length - 12), 0);
  assert.ok(onBig.recordsRead < 1.5 * whole.recordsRead, `${onBig.recordsRead} records read on the larger corpus vs ${whole.recordsRead}`);
  assert.ok(onBig.recordsRead - whole.recordsRead < 5 * lookups, `${onBig.recordsRead - whole.recordsRead} more records for about ${lookups} n-grams`);
  assert.deepEqual(onBig.items.map((i) => i.found), whole.items.map((i) => i.found));
});

test('examples/decontam.yaml: the ledger of the sample corpus holds the two passages of examples/decontam-evals.jsonl and not the made-up items', async () => {
  const out = join(await mkdtemp(join(tmpdir(), 'refinery-decontam-example-')), 'out');
  const r = spawnSync(process.execPath, [join(root, 'bin', 'refinery.mjs'), 'run', join(root, 'examples', 'decontam.yaml'), '-o', out, '-w', '2', '-q', '--no-report'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const { items } = await checkContamination(out, await readBenchmark(join(root, 'examples', 'decontam-evals.jsonl'), ['question', 'answer']));
  assert.deepEqual(
    items.map((i) => [i.id, i.overlap, i.documents.map((d) => d.id)]),
    [
      ['sotu-passage-1', 1, ['sotu-1820_james_monroe_dr']],
      ['sotu-passage-2', 1, ['sotu-1969_lyndon_b_johnson_d']],
      ['made-up-1', 0, []],
      ['made-up-2', 0, []],
    ],
  );
});
