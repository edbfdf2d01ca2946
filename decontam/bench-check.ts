/**
 * The wall-time measurement of docs/decontam.md: ledgers of the sample corpus's 39 State of the
 * Union addresses and of those plus 19 word-shuffled copies (780 documents), then `decontam check`
 * of 200 items of 30 words (100 passages of the addresses, 100 of shuffled text never indexed),
 * median of 3 checks each. Works under $TMPDIR/refinery-decontam-bench (or the folder given).
 *   node --import tsx decontam/bench-check.ts [folder]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { checkContamination } from './check.ts';
import { readBenchmark } from './benchmark-items.ts';

const root = join(import.meta.dirname, '..');
const work = process.argv[2] ?? join(tmpdir(), 'refinery-decontam-bench');

interface Speech {
  id: string;
  text: string;
}

/** The words of `text` in a seeded order (a linear congruential generator): new n-grams only. */
function shuffled(text: string, seed: number): string {
  const w = text.split(' ');
  let s = seed;
  for (let i = w.length - 1; i > 0; i--) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const j = s % (i + 1);
    [w[i], w[j]] = [w[j]!, w[i]!];
  }
  return w.join(' ');
}

const speeches = gunzipSync(readFileSync(join(root, 'examples', 'corpus', 'speeches.jsonl.gz'))).toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as Speech);
mkdirSync(work, { recursive: true });
const bench: string[] = [];
for (let i = 0; i < 100; i++) {
  const words = speeches[i % speeches.length]!.text.split(' ');
  const at = (i * 97) % Math.max(1, words.length - 40);
  bench.push(JSON.stringify({ id: `in${i}`, question: words.slice(at, at + 30).join(' ') }));
}
for (let i = 0; i < 100; i++) {
  const words = shuffled(speeches[i % speeches.length]!.text, 1000 + i).split(' ');
  bench.push(JSON.stringify({ id: `out${i}`, question: words.slice(0, 30).join(' ') }));
}
writeFileSync(join(work, 'evals.jsonl'), bench.join('\n') + '\n');
const items = await readBenchmark(join(work, 'evals.jsonl'), ['question']);

for (const copies of [0, 19]) {
  const dir = join(work, `run-${copies}`);
  mkdirSync(dir, { recursive: true });
  const inputs = ['s.jsonl'];
  writeFileSync(join(dir, 's.jsonl'), speeches.map((d) => JSON.stringify(d)).join('\n') + '\n');
  for (let k = 1; k <= copies; k++) {
    inputs.push(`c${k}.jsonl`);
    writeFileSync(join(dir, `c${k}.jsonl`), speeches.map((d) => JSON.stringify({ id: `${d.id}:${k}`, text: shuffled(d.text, k) })).join('\n') + '\n');
  }
  writeFileSync(join(dir, 'p.yaml'), `inputs: [${inputs.join(', ')}]\noutput: out\nplugins: [${JSON.stringify(join(root, 'decontam', 'index-stage.ts'))}]\nstages: [decontam-index]\n`);
  const r = spawnSync(process.execPath, [join(root, 'bin', 'refinery.mjs'), 'run', 'p.yaml', '-q', '--no-report', '--force'], { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const times: number[] = [];
  let result: Awaited<ReturnType<typeof checkContamination>> | undefined;
  for (let k = 0; k < 3; k++) {
    const t0 = performance.now();
    result = await checkContamination(join(dir, 'out'), items);
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const { documents, records } = result!.manifest;
  const hit = result!.items.filter((i) => i.found > 0).length;
  console.log(`${documents} documents, ${records} records: check of ${items.length} items ${times[1]!.toFixed(0)} ms (median of 3), ${result!.recordsRead} records read, ${hit} items found`);
}
