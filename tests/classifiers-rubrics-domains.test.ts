/**
 * The code and math domain rubrics shipped for the LLM labeller (classifiers/rubrics/): each loads
 * by name, puts the document where {document} is, and reads the verdict of an answer in its
 * format (the last match wins), refusing what is out of its range.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadRubric, parseAnswer, renderPrompt, shippedRubrics } from '../classifiers/label/rubric.ts';

test('the shipped rubrics include the code and math domains, binary and additive', async () => {
  assert.deepEqual(await shippedRubrics(), ['code-edu-additive', 'fineweb-edu-additive', 'llama3-code', 'llama3-math', 'llama3-quality', 'math-additive']);
  await assert.rejects(loadRubric('physics'), /no such rubric \(a file, or one of the shipped names: code-edu-additive, fineweb-edu-additive, llama3-code, llama3-math, llama3-quality, math-additive\)/);
});

test('binary domain rubrics: llama3-code and llama3-math read yes/no from their last Answer line', async () => {
  for (const name of ['llama3-code', 'llama3-math']) {
    const r = await loadRubric(name);
    assert.equal(r.kind, 'binary');
    assert.ok(r.system.length > 40);
    const doc = 'def f(x):\n    return x ** 2  # $x^2$';
    assert.ok(renderPrompt(r, doc).includes(`"""\n${doc}\n"""`), name);
    assert.equal(parseAnswer(r, 'It meets criterion 1. The format is "Answer: yes".\nAnswer: no'), 0);
    assert.equal(parseAnswer(r, 'Criterion 2 holds.\nAnswer: **Yes**'), 1);
    assert.equal(parseAnswer(r, 'Unclear.'), null);
  }
});

test('additive domain rubrics: code-edu-additive and math-additive read a 0–5 score', async () => {
  const code = await loadRubric('code-edu-additive');
  assert.deepEqual([code.kind, code.min, code.max], ['score', 0, 5]);
  assert.equal(parseAnswer(code, 'Valid, practical, well commented.\nEducational score: 3'), 3);
  assert.equal(parseAnswer(code, 'Educational score: 6'), null);
  const math = await loadRubric('math-additive');
  assert.deepEqual([math.kind, math.min, math.max], ['score', 0, 5]);
  assert.equal(parseAnswer(math, 'A worked example with every step.\nMath score: **4**'), 4);
  assert.equal(parseAnswer(math, 'Educational score: 4'), null, 'the math rubric reads its own line');
});
