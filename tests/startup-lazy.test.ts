/**
 * Stages load lazily by name: a run imports the modules of the stages its pipeline names and the
 * readers its inputs need, not every stage's dependencies. Every module the `refinery` process
 * resolves is recorded by a resolve hook (tests/fixtures/startup/record-imports.mjs). Worker
 * threads do not inherit such hooks, but a thread imports only the runner's own modules (the same
 * as the main process) and the stage modules of its plan, which the main process also loads to
 * validate the options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const HEAVY = ['onnxruntime-node', 'tiktoken', 'fasttext.wasm.js', '@duckdb', 'linkedom', 'apache-arrow', 'vega', '@aws-sdk'];
/** Packages that take time or memory to load, for the table below. */
const HEAVY_OR_LARGE = [...HEAVY, '@huggingface/tokenizers', 'parquet-wasm', 'llama3-tokenizer-js', 'libphonenumber-js', 'glpk.js', '@mozilla/readability'];

/**
 * What loading each built-in stage's module may load of HEAVY_OR_LARGE: the model runtime or
 * library the stage is about, nothing else. A new stage needs a line here.
 */
const MAY_LOAD: Record<string, string[]> = {
  langid: ['fasttext.wasm.js'],
  'gopher-quality': [],
  'gopher-repetition': [],
  c4: [],
  fineweb: [],
  'dirty-words': [],
  'url-blocklist': [],
  'token-outlier': [],
  'code-quality': [],
  select: [],
  pii: ['libphonenumber-js'],
  'pii-sites': ['libphonenumber-js'],
  'exact-dedup': [],
  'url-dedup': [],
  'minhash-dedup': [],
  'line-dedup': [],
  'semantic-dedup': ['onnxruntime-node', '@huggingface/tokenizers'],
  quality: ['onnxruntime-node', '@huggingface/tokenizers'],
  'quality-ensemble': [],
  'mix-buckets': [],
  tokenize: [],
  'decontam-index': [],
  decontam: [],
};

async function importsOf(stages: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-lazy-'));
  await writeFile(join(dir, 'in.jsonl'), JSON.stringify({ id: 'a', text: 'A sentence of a few words here. Another one follows it. And a third one ends it.' }) + '\n');
  await writeFile(join(dir, 'p.yaml'), `inputs: [in.jsonl]\noutput: out\nstages: [${stages}]\n`);
  const record = join(dir, 'imports.txt');
  const r = spawnSync(process.execPath, [join(root, 'bin', 'refinery.mjs'), 'run', 'p.yaml', '-w', '1', '-q', '--no-report'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, RECORD_IMPORTS: record, NODE_OPTIONS: `--import ${join(root, 'tests', 'fixtures', 'startup', 'record-imports.mjs')}` },
  });
  assert.equal(r.status, 0, r.stderr);
  return (await readFile(record, 'utf8')).split('\n').filter(Boolean);
}

const loaded = (imports: string[], pkg: string) => imports.some((u) => u.includes(`/node_modules/${pkg}/`));

test('a c4-only run loads neither ONNX Runtime, tiktoken, fastText, DuckDB, the HTML extractor, Arrow nor the report charts', async () => {
  const imports = await importsOf('c4');
  assert.ok(imports.some((u) => /\/filters\/c4\.(ts|js)$/.test(u)), 'the c4 module itself is loaded');
  for (const pkg of HEAVY) assert.ok(!loaded(imports, pkg), `${pkg} was loaded by a c4-only run`);
});

test('the recording sees a stage\'s dependencies when the pipeline names it (langid loads fastText)', async () => {
  const imports = await importsOf('langid');
  assert.ok(loaded(imports, 'fasttext.wasm.js'), 'langid loads fastText');
  assert.ok(!loaded(imports, 'onnxruntime-node'));
});

/** The packages of HEAVY_OR_LARGE a process loads when it loads one stage's module by name. */
async function loadedByStage(name: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-lazy-'));
  const record = join(dir, 'imports.txt');
  await promisify(execFile)(process.execPath, ['--import', 'tsx', '--import', join(root, 'tests', 'fixtures', 'startup', 'record-imports.mjs'), join(root, 'tests', 'fixtures', 'startup', 'load-stage.ts'), name], {
    env: { ...process.env, RECORD_IMPORTS: record },
  });
  const imports = (await readFile(record, 'utf8')).split('\n').filter(Boolean);
  return HEAVY_OR_LARGE.filter((pkg) => loaded(imports, pkg));
}

test('every built-in stage loads only the heavy packages its line in MAY_LOAD names', async () => {
  const { builtinStageModules } = await import('../bin/builtin-stages.ts');
  const names = Object.keys(builtinStageModules);
  assert.deepEqual(names.filter((n) => !(n in MAY_LOAD)), [], 'stages without a line in MAY_LOAD');
  const found: Record<string, string[]> = {};
  let next = 0;
  await Promise.all(
    [0, 1].map(async () => {
      while (next < names.length) {
        const name = names[next++]!;
        found[name] = await loadedByStage(name);
      }
    }),
  );
  const extra = names.flatMap((n) => found[n]!.filter((pkg) => !MAY_LOAD[n]!.includes(pkg)).map((pkg) => `${n} loads ${pkg}`));
  assert.deepEqual(extra, []);
  assert.deepEqual(found.langid, ['fasttext.wasm.js'], 'the recording sees what a stage module loads');
});
