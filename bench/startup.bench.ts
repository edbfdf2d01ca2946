/**
 * Start-up: whole `refinery` processes, as a user starts them, running the compiled JavaScript
 * in dist/ (what `npm ci` builds) against the same commands run from the TypeScript sources
 * through tsx (REFINERY_FROM_SOURCE=1: how every start worked before the build step). Medians
 * of several runs; BENCH_QUICK=1 runs each once (the test suite does, to keep this from rotting).
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const quick = process.env.BENCH_QUICK === '1';
const runs = quick ? 1 : 7;

// `npm test` has just built dist/ (and other tests run the CLI meanwhile): the quick mode does not
// rebuild it under their feet; a full run builds first so that it measures today's code.
if (!quick) {
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, encoding: 'utf8' });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
}

const dir = await mkdtemp(join(tmpdir(), 'refinery-bench-startup-'));
await writeFile(join(dir, 'in.jsonl'), JSON.stringify({ id: 'a', text: 'A sentence of a few words. Another one follows it here. And a third one ends it.' }) + '\n');
await writeFile(join(dir, 'c4.yaml'), 'inputs: [in.jsonl]\noutput: out\nstages: [c4]\n');

function seconds(args: string[], fromSource: boolean): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'refinery.mjs'), ...args], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, REFINERY_FROM_SOURCE: fromSource ? '1' : '0' },
  });
  const s = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`refinery ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return s;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const cases: [string, string[]][] = [
  ['refinery --version', ['--version']],
  ['refinery stages (loads every stage module)', ['stages']],
  ['refinery run: c4 on one document, 1 worker thread (process start to exit)', ['run', 'c4.yaml', '-w', '1', '-q', '--no-report', '--force']],
];
console.log(`Whole processes, median of ${runs}; baseline: the same command from the sources through tsx.\n`);
console.log('| command | compiled (s) | tsx (s) | speed vs tsx |');
console.log('|---|---:|---:|---:|');
for (const [name, args] of cases) {
  const compiled: number[] = [];
  const tsx: number[] = [];
  for (let i = 0; i < runs; i++) {
    compiled.push(seconds(args, false));
    tsx.push(seconds(args, true));
  }
  const c = median(compiled);
  const t = median(tsx);
  console.log(`| ${name} | ${c.toFixed(2)} | ${t.toFixed(2)} | ${(t / c).toFixed(1)}x |`);
}
await rm(dir, { recursive: true, force: true });
