/**
 * The report at a size where reading documents back would show: a synthetic run of 1,000,000 tiny
 * documents (generated here, through a filter that only measures the text's length), whose report
 * is written from what the tasks counted as they wrote each document, never from kept/,
 * rejected/ or errors/.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { prepareConfig } from '../pipeline/config.ts';
import { runPipeline } from '../pipeline/engine/run.ts';
import { folderFiles, type RunFiles } from '../pipeline/run-folder/files.ts';
import { registerBuiltinStages } from '../bin/builtin-stages.ts';
import { writeRunReport } from '../mixes/report/index.ts';
import type { RunReport } from '../mixes/report/data.ts';

registerBuiltinStages();

const DOCS = 1_000_000;
const SHARDS = 4;
const LANGUAGES = ['en', 'de', 'fr', 'es'];
const PLUGIN = join(import.meta.dirname, 'fixtures', 'report', 'cheap-rules.ts');

/** Document i: 0 to 7 times "ab", a source of three and a language of four. */
async function writeShard(path: string, shard: number): Promise<void> {
  const out = createWriteStream(path);
  let chunk = '';
  for (let i = shard; i < DOCS; i += SHARDS) {
    chunk += `{"id":"d${i}","text":"${'ab'.repeat(i % 8)}","source":"s${i % 3}","language":"${LANGUAGES[i % 4]}"}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}

/** The folder's files, recording every path the report asks for or lists. */
function recording(asked: string[]): RunFiles {
  return {
    need: (p) => (asked.push(p), folderFiles.need(p)),
    readRange: (p, start, length) => (asked.push(p), folderFiles.readRange(p, start, length)),
    list: (p) => (asked.push(p), folderFiles.list(p)),
  };
}

test('a run of 1M documents: report counts equal stats.json, examples cover every rule, and the report reads no document file', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'report-scale-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await Promise.all(Array.from({ length: SHARDS }, (_, s) => writeShard(join(dir, `part-${s}.jsonl`), s)));
  const config = await prepareConfig(
    {
      inputs: ['part-*.jsonl'],
      output: 'out',
      workers: 2,
      plugins: [PLUGIN],
      stages: [{ stage: 'cheap-rules', overrides: [{ when: { language: 'de' }, options: { min_chars: 11 } }] }],
    },
    { file: 'test', baseDir: dir },
  );
  const run = (await runPipeline(config, { quiet: true })).output;

  const asked: string[] = [];
  await writeRunReport(run, join(run, 'report'), recording(asked));
  const documentFiles = asked.map((p) => relative(run, p)).filter((p) => /^(kept|rejected|errors)(\/|$)/.test(p.split(sep).join('/')));
  assert.deepEqual(documentFiles, [], 'the report asked for no file of kept/, rejected/ or errors/');

  const stats = JSON.parse(await readFile(join(run, 'stats.json'), 'utf8')) as { totals: { in: number; kept: number; rejected: number }; stages: { name: string; rejected: number; reasons: Record<string, number> }[] };
  const report = JSON.parse(await readFile(join(run, 'report', 'report.json'), 'utf8')) as RunReport;
  assert.equal(stats.totals.in, DOCS);
  assert.match(report.documents_basis, /^all 1,000,000 documents in kept\/, rejected\/, counted by the run's tasks as they wrote them$/);
  assert.ok(report.funnel.available);
  // Per rule: documents as stats.json counts them, and the tokens of every one of them.
  const cheap = stats.stages[0]!;
  for (const r of report.funnel.rules) {
    assert.equal(r.docs, cheap.reasons[r.rule], r.rule);
    assert.ok(r.tokens !== undefined && r.tokens > 0, r.rule);
  }
  // too_short: texts of 0 and 2 characters (2/8 of the documents), and German ones of 10 (1/8); too_long: of 14 (1/8).
  assert.deepEqual(cheap.reasons, { too_short: 375_000, too_long: 125_000 });
  // Per source and per language, the funnel adds up to the run's.
  for (const groups of [report.funnel_by_source, report.funnel_by_language]) {
    const rows = Object.values(groups);
    assert.equal(rows.reduce((a, g) => a + g[0]!.in, 0), stats.totals.in);
    assert.equal(rows.reduce((a, g) => a + g[0]!.kept, 0), stats.totals.kept);
    assert.equal(rows.reduce((a, g) => a + g[0]!.rejected, 0), cheap.rejected);
  }
  assert.equal(report.funnel_by_language['de']![0]!.rejected, 250_000);
  // Examples for every rule, five each.
  assert.deepEqual(Object.keys(report.examples).sort(), Object.keys(cheap.reasons).map((r) => `cheap-rules:${r}`).sort());
  for (const ex of Object.values(report.examples)) assert.equal(ex.length, 5);
  assert.ok(report.examples['cheap-rules:too_short']!.every((e) => e.preview.length < (e.language === 'de' ? 11 : 3)));
  // The length histogram: every document, its rejected side split by the rule that compares it.
  const chars = report.histograms['cheap_rules.chars']!;
  assert.equal(chars.kept, stats.totals.kept);
  assert.equal(chars.rejected, stats.totals.rejected);
  assert.equal(chars.bins.reduce((a, b) => a + b.kept + b.this_rule + b.other_rule, 0), DOCS);
  assert.ok(report.languages.available);
  assert.equal(report.languages.rows.reduce((a, x) => a + x.docs, 0), stats.totals.kept);
});
