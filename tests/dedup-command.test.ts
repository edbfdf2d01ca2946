import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { runStages } from '../pipeline/engine/run.ts';
import { runGlobalStage } from './run-global-stage.ts';
import { minhashDedupStage } from '../dedup/minhash-dedup.ts';
import { buildProgram, main } from '../bin/cli.ts';
import { injectedCorpus } from './dedup-corpus.ts';
import { readJsonlDir } from './output-files.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';

registerBuiltinStages();

const readOutput = (dir: string) => readJsonlDir<{ id: string; meta: Record<string, unknown> }>(dir);

test('refinery dedup through the runner (worker threads): exact, minhash and lines in order, byte-identical reruns', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dedup-run-'));
  const corpus = injectedCorpus(41, 80, 120, 0.04, 3);
  const inputs: string[] = [];
  for (const [i, shard] of corpus.shards.entries()) {
    const path = join(dir, `in-${i}.jsonl`);
    const lines = shard.map((d, j) => JSON.stringify({ id: d.id, text: `${d.text}\nPosted by admin in Uncategorized`, exact: j === 0 }));
    if (i === 1) lines.push(JSON.stringify({ id: 'exact-copy', text: `${corpus.shards[0][0].text}\nPosted by admin in Uncategorized` }));
    await writeFile(path, lines.join('\n') + '\n');
    inputs.push(path);
  }
  const stages = [{ stage: 'exact-dedup' }, { stage: 'minhash-dedup' }, { stage: 'line-dedup' }];
  const first = await runStages({ inputs, output: join(dir, 'out1'), stages, workers: 2, quiet: true });
  const rejected = await readOutput(join(dir, 'out1', 'rejected'));
  const kept = await readOutput(join(dir, 'out1', 'kept'));
  assert.equal(first.stats.totals.in, 161);
  assert.equal(kept.length + rejected.length, 161);
  const exact = rejected.filter((d) => d.meta.reject_reason === 'exact-dedup:exact');
  // The planted copy, plus any generated copy that drew no edit at all.
  assert.ok(exact.some((d) => d.id === 'exact-copy' && d.meta.duplicate_of === corpus.shards[0][0].id));
  assert.equal(exact.length, 1 + corpus.pairs.filter((p) => p.jaccard === 1).length);
  const near = rejected.filter((d) => d.meta.reject_reason === 'minhash-dedup:minhash');
  const highPairs = corpus.pairs.filter((p) => p.jaccard >= 0.8);
  // The kept one is the earliest by (input file, position): the original or the copy.
  const removed = [...near, ...exact];
  const found = highPairs.filter((p) => removed.some((d) => (d.id === p.b && d.meta.duplicate_of === p.a) || (d.id === p.a && d.meta.duplicate_of === p.b)));
  assert.ok(near.length > 0);
  assert.ok(found.length >= 0.95 * highPairs.length, `${found.length}/${highPairs.length}`);
  assert.ok(kept.every((d) => Array.isArray(d.meta.line_dedup_removed)), 'the boilerplate line is removed from every kept page');
  for (const name of ['exact-dedup', 'minhash-dedup', 'line-dedup']) {
    const s = JSON.parse(await readFile(join(dir, 'out1', 'stats', `${name}.json`), 'utf8'));
    assert.equal(s.stage, name);
  }
  await runStages({ inputs, output: join(dir, 'out2'), stages, workers: 1, quiet: true });
  for (const sub of ['kept', 'rejected']) {
    for (const f of await readdir(join(dir, 'out1', sub))) {
      assert.ok((await readFile(join(dir, 'out1', sub, f))).equals(await readFile(join(dir, 'out2', sub, f))), `${sub}/${f} differs between runs`);
    }
  }
});

test('the refinery dedup command runs the methods in the order given and writes their statistics', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dedup-cli-'));
  const input = join(dir, 'in.jsonl');
  const docs = [
    { id: 'a', text: 'Alpha text here.\nFooter line of the site', url: 'http://e.com/a', date: '2020-01-01' },
    { id: 'b', text: 'another PAGE\nFooter line of the site', url: 'http://e.com/b', date: '2020-01-01' },
    { id: 'c', text: 'Another page.\nFooter line of the site', url: 'https://www.e.com/a', date: '2023-01-01' },
  ];
  await writeFile(input, docs.map((d) => JSON.stringify(d)).join('\n') + '\n');
  const out = join(dir, 'out');
  const code = await main(['node', 'refinery', 'dedup', input, '-o', out, '-m', 'url,exact', '--method', 'lines', '-q', '-w', '1']);
  assert.equal(code, 0);
  const stats = JSON.parse(await readFile(join(out, 'stats.json'), 'utf8'));
  assert.deepEqual(stats.stages.map((s: { name: string }) => s.name), ['url-dedup', 'exact-dedup', 'line-dedup']);
  const rejected = await readOutput(join(out, 'rejected'));
  assert.deepEqual(rejected.map((d) => [d.id, d.meta.reject_reason, d.meta.duplicate_of]).sort(), [['a', 'url-dedup:url', 'c'], ['c', 'exact-dedup:exact', 'b']].sort());
  for (const name of ['url-dedup', 'exact-dedup', 'line-dedup']) assert.ok(JSON.parse(await readFile(join(out, 'stats', `${name}.json`), 'utf8')).docs_in >= 1);
});

test('map, reduce and apply tasks run in separate processes that share only the work folder', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dedup-procs-'));
  const corpus = injectedCorpus(42, 60, 120, 0.03, 2);
  await writeFile(join(dir, 'shards.json'), JSON.stringify(corpus.shards));
  const stageUrl = new URL('../dedup/minhash-dedup.ts', import.meta.url).href;
  const filesUrl = new URL('../pipeline/run-folder/files.ts', import.meta.url).href;
  // One process per task; each reads the shards from disk and creates its own stage.
  const script = `
    import { readFileSync, writeFileSync } from 'node:fs';
    import { join } from 'node:path';
    import { minhashDedupStage } from ${JSON.stringify(stageUrl)};
    import { folderFiles } from ${JSON.stringify(filesUrl)};
    const [dir, phase, indices] = process.argv.slice(1);
    const shards = JSON.parse(readFileSync(join(dir, 'shards.json'), 'utf8'));
    const ctx = { baseDir: dir, outputDir: join(dir, 'out'), workDir: join(dir, 'work'), seed: 3, keyPath: 'x', files: folderFiles };
    const stage = await minhashDedupStage.create(minhashDedupStage.options.parse({ partitions: 2 }), ctx);
    const count = shards.length;
    for (const i of indices.split(',').map(Number)) {
    if (phase === 'map') await stage.map({ index: i, count }, (async function* () { yield* shards[i]; })());
    if (phase === 'reduce') await stage.reduce(i, count);
    if (phase === 'merge') {
      // The merge steps (rounds until one leaves no work), then finish.
      for (const step of stage.steps) for (let round = 0; ; round++) {
        let left = 0;
        for (let t = 0; t < step.tasks; t++) left += (await step.run(t, round, count)) ?? 0;
        if (!step.repeat || left === 0) break;
      }
      await stage.finish(count);
    }
    if (phase === 'apply') {
      const applier = await stage.applier({ index: i, count });
      const verdicts = await applier.process(shards[i]);
      writeFileSync(join(dir, 'verdicts-' + i + '.json'), JSON.stringify(shards[i].map((d, j) => [d.id, verdicts[j].keep, d.meta.duplicate_of ?? null])));
    }
    }`;
  const run = (phase: string, indices: string): Promise<void> =>
    new Promise((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, dir, phase, indices], (err) => (err ? reject(err) : resolve()));
    });
  await Promise.all([run('map', '0'), run('map', '1')]);
  await run('reduce', '0,1');
  await run('merge', '0');
  await run('apply', '1,0');
  const fromProcesses = (await Promise.all([0, 1].map(async (i) => JSON.parse(await readFile(join(dir, `verdicts-${i}.json`), 'utf8')) as unknown[]))).flat();
  // The runner, running the same stage over the same shards, gives the same verdicts.
  const local = await runGlobalStage(minhashDedupStage, { partitions: 2 }, corpus.shards, { seed: 3 });
  const expected = local.docs.flatMap((s, i) => s.map((d, j) => [d.id, local.verdicts[i][j].keep, d.meta.duplicate_of ?? null]));
  assert.deepEqual(fromProcesses, expected);
  assert.ok(expected.some((v) => (v as unknown[])[1] === false), 'some near-duplicates are removed');
});

test('refinery dedup refuses a seed that is not a whole number, naming the option', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dedup-seed-'));
  const input = join(dir, 'in.jsonl');
  await writeFile(input, JSON.stringify({ id: 'a', text: 'Some text.' }) + '\n');
  for (const seed of ['abc', '1.5', '-2']) {
    const program = await buildProgram();
    const dedup = program.commands.find((c) => c.name() === 'dedup')!;
    dedup.exitOverride().configureOutput({ writeErr: () => {}, outputError: () => {} });
    await assert.rejects(
      program.parseAsync(['node', 'refinery', 'dedup', input, '-o', join(dir, 'out'), '-q', '--seed', seed]),
      /'--seed <n>' argument '.*' is invalid\. expected a whole number of 0 or more/,
      `--seed ${seed}`,
    );
  }
});
