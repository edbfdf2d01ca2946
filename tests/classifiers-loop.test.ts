import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { startFakeLlm } from './classifiers-llm-server.ts';
import { readJsonlDir } from './output-files.ts';

const run = promisify(execFile);
const BIN = resolve('bin/refinery.mjs');
const FIXTURE = resolve('tests/fixtures/classifiers/readme-sections.jsonl.gz');

/**
 * The stand-in LLM's rule: a document "meets the requirements" when at least 20% of its words
 * are common English function words (Gopher's stop-word test, made graded): prose passes, code
 * blocks, option tables and badge lists fail.
 */
const STOP_WORDS = new Set('the be to of and a in that have it for not on with as you do at this but by from is are was'.split(' '));

function isProse(doc: string): boolean {
  const words = doc.toLowerCase().match(/[a-z']+/g) ?? [];
  return words.filter((w) => STOP_WORDS.has(w)).length / Math.max(1, words.length) >= 0.2;
}

test('the whole loop on real text: label with an OpenAI-protocol server, train, export to ONNX, score a corpus with the quality stage', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'refinery-loop-'));
  const server = await startFakeLlm({ answer: (d) => `The document was checked against each requirement.\nAnswer: ${isProse(d) ? 'yes' : 'no'}` });
  try {
    const labels = join(dir, 'labels.jsonl');
    const label = await run(process.execPath, [BIN, 'classify', 'label', FIXTURE, '--endpoint', server.url, '--model', 'llama-2-chat-stand-in', '-n', '400', '--concurrency', '4', '-o', labels]);
    assert.match(label.stdout, /labelled 247 now \(0 already in .*\); 0 unparsable, 0 failed after retries/);
    assert.equal(server.requests.length, 247);
    const records = (await readFile(labels, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { id: string; text: string; label: number });
    const positives = records.filter((r) => r.label === 1).length;
    assert.ok(positives > 40 && positives < 207, `positives ${positives}`);

    const model = join(dir, 'model');
    const train = await run(process.execPath, [BIN, 'classify', 'train', labels, '-o', model, '--epochs', '50', '--lr', '1', '--buckets', '65536', '--dim', '16', '--seed', '1']);
    assert.match(train.stdout, /trained binary classifier on \d+ examples/);
    const metrics = JSON.parse(await readFile(join(model, 'metrics.json'), 'utf8'));
    const card = JSON.parse(await readFile(join(model, 'card.json'), 'utf8'));
    assert.equal(metrics.split, 'test');
    assert.equal(metrics.test.examples, Math.round(247 * 0.2));
    assert.ok(metrics.test.f1 >= 0.8, `held-out F1 ${metrics.test.f1}`);
    assert.ok(metrics.test.roc_auc >= 0.9, `held-out ROC AUC ${metrics.test.roc_auc}`);
    assert.deepEqual(card.labels, ['0', '1']);

    const out = join(dir, 'scored');
    await run(process.execPath, [BIN, 'classify', 'score', FIXTURE, '--model', model, '--threshold', 'card', '--workers', '1', '-q', '-o', out]);
    const stats = JSON.parse(await readFile(join(out, 'stats.json'), 'utf8'));
    assert.equal(stats.totals.in, 247);
    assert.equal(stats.totals.kept + stats.totals.rejected, 247);
    assert.equal(stats.totals.errored, 0);
    const kept = await readJsonlDir(join(out, 'kept'));
    const rejected = await readJsonlDir(join(out, 'rejected'));
    const metaOf = (d: Record<string, unknown>) => (d.meta ?? d) as Record<string, unknown>;
    // Source code in the README sections is not scored by a prose model (skip_code), and kept.
    const scored = kept.filter((d) => metaOf(d).quality_skipped !== 'code');
    for (const d of kept.filter((x) => !scored.includes(x))) assert.equal(metaOf(d).quality, undefined);
    for (const d of scored) {
      assert.ok((metaOf(d).quality as number) >= card.threshold);
      assert.equal(metaOf(d).quality_band, 'high');
    }
    for (const d of rejected) {
      assert.equal(metaOf(d).reject_reason, 'quality:below_threshold');
      assert.ok(['low', 'mid'].includes(metaOf(d).quality_band as string));
    }
    // The scores agree with the rule the LLM applied on most documents (training and held-out together).
    const byId = new Map(records.map((r) => [r.id, r.label]));
    const judged = scored.length + rejected.length;
    assert.ok(judged >= 150, `${judged} documents scored`); // README sections that are mostly code are skipped
    const agree = [...scored.map((d) => byId.get(d.id as string) === 1), ...rejected.map((d) => byId.get(d.id as string) === 0)].filter(Boolean).length;
    assert.ok(agree / judged >= 0.85, `agreement ${agree}/${judged}`);
  } finally {
    await server.close();
  }
});
