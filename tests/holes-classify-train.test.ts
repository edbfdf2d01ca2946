/**
 * `classify train` tells its user what went wrong: lines of the labels file that are not
 * labelled documents are counted as malformed (and named), apart from documents without a
 * label; a training that diverges to NaN weights fails, says why, and writes no model.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { access, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { trainFromLabels } from '../classifiers/training-run.ts';
import { tempDir } from './temp-dirs.ts';

const WORDS = { sport: ['match', 'goal', 'team', 'league', 'coach', 'score'], food: ['bread', 'soup', 'oven', 'salt', 'recipe', 'flour'] };

function rows(n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const topic = i % 2 ? 'sport' : 'food';
    const text = Array.from({ length: 12 }, (_, k) => WORDS[topic][(i + k) % 6]).join(' ');
    return JSON.stringify({ id: `d${i}`, text, label: topic });
  });
}

async function labelsFile(lines: string[]): Promise<string> {
  const path = join(await tempDir('refinery-holes-train-'), 'labels.jsonl');
  await writeFile(path, lines.join('\n') + '\n');
  return path;
}

test('malformed lines are counted as malformed, apart from documents without a label, and named in a warning', async () => {
  const path = await labelsFile([...rows(40), '{"id": "cut", "text": "half a li', JSON.stringify({ id: 'n', text: 'no answer', label: null }), '{"id": "no-text", "label": "food"}']);
  const res = await trainFromLabels(path, join(path, '..', 'model'), { buckets: 1024, dim: 4, autotune_seconds: 0 });
  assert.equal(res.card.training.skipped_without_label, 1);
  assert.equal(res.card.training.skipped_malformed, 2);
  assert.match(res.summary[0]!, /1 without a label skipped, 2 malformed lines skipped/);
  assert.ok(res.warnings[0]!.startsWith(`2 lines of ${path} are not labelled documents and were skipped (first: ${path}:41: malformed JSON: `), res.warnings[0]);
});

test('a file of malformed lines is refused saying so, not as a lack of labels alone', async () => {
  const path = await labelsFile(['{"id": 1, "text": "a", label: x}', 'not json', ...rows(3)]);
  await assert.rejects(trainFromLabels(path, join(path, '..', 'model')), new RegExp(`only 3 usable labelled documents; 2 malformed lines \\(first: ${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:1: malformed JSON`));
});

test('a training that diverges to NaN weights fails, says why, and writes no model', async () => {
  const path = await labelsFile(rows(60));
  const out = join(path, '..', 'model');
  await assert.rejects(
    trainFromLabels(path, out, { buckets: 1024, dim: 4, lr: 1e300, epochs: 5, autotune_seconds: 0 }),
    (e: Error) => e.name === 'RefineryError' && /^classify train: training diverged: the model's \w+ weights became NaN or infinite with lr 1e\+300 over 5 epochs; give a smaller --lr/.test(e.message),
  );
  await assert.rejects(access(join(out, 'model.onnx')), 'no model written');
});
