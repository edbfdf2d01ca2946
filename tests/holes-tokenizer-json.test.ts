/**
 * A tokenizer.json is checked before use: ids are whole numbers in int32 range, no two tokens
 * share an id, and the special tokens the file relies on are in it. A bad file is refused with
 * a message naming it and the key, instead of writing ids no trainer can use.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HuggingFaceTokenizer } from '../pipeline/tokenizer/huggingface-tokenizer.ts';
import { tempDir } from './temp-dirs.ts';

type Json = Record<string, unknown>;

/** A small BPE with `<s> … </s>` as its template's special tokens. */
function tokenizerJson(change: (j: { vocab: Record<string, number>; added: Json[]; json: Json }) => void = () => {}): Json {
  const vocab: Record<string, number> = { a: 0, b: 1, c: 2, ab: 3, abc: 4 };
  const added: Json[] = [
    { id: 5, content: '<s>', special: true },
    { id: 6, content: '</s>', special: true },
  ];
  const json: Json = {
    version: '1.0',
    added_tokens: added,
    normalizer: null,
    pre_tokenizer: null,
    decoder: null,
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [],
      special_tokens: { '<s>': { id: '<s>', ids: [5], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [6], tokens: ['</s>'] } },
    },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab, merges: ['a b', 'ab c'] },
  };
  change({ vocab, added, json });
  return json;
}

async function load(json: Json): Promise<{ path: string; result: Promise<HuggingFaceTokenizer> }> {
  const dir = await tempDir('refinery-holes-tokjson-');
  const path = join(dir, 'tokenizer.json');
  await writeFile(path, JSON.stringify(json));
  return { path, result: HuggingFaceTokenizer.load(path) };
}

test('a sound tokenizer.json loads, with the vocabulary size of its ids', async () => {
  const { result } = await load(tokenizerJson());
  const t = await result;
  assert.deepEqual([t.vocabSize, t.bosId, t.eosId], [7, 5, 6]);
  assert.deepEqual([...t.encodeDocument('abcab')], [5, 4, 3, 6]);
});

const BAD: [string, (j: { vocab: Record<string, number>; added: Json[]; json: Json }) => void, RegExp][] = [
  ['a negative id', ({ vocab }) => (vocab.ab = -3), /model\.vocab: token "ab" has id -3; ids are whole numbers from 0 to 2147483647/],
  ['a fractional id', ({ vocab }) => (vocab.ab = 2.5), /model\.vocab: token "ab" has id 2\.5/],
  ['an id beyond int32', ({ vocab }) => (vocab.abc = 2 ** 40), /model\.vocab: token "abc" has id 1099511627776/],
  ['two tokens with one id', ({ vocab }) => (vocab.abc = 3), /model\.vocab: tokens "ab" and "abc" both have id 3/],
  ['an added token on a vocabulary id', ({ added }) => (added[1]!.id = 2), /added_tokens\[1\]: tokens "c" and "<\/s>" both have id 2/],
  ['an added token with no id', ({ added }) => delete added[0]!.id, /added_tokens\[0\]: token "<s>" has id undefined/],
  ['a template special token that is not in the file', ({ added }) => added.pop(), /post_processor\.special_tokens\.<\/s>: special token "<\/s>" is not a token of the file/],
  ['a template special token with another id', ({ json }) => (((json.post_processor as Json).special_tokens as Record<string, Json>)['<s>']!.ids = [9]), /special_tokens\.<s>: gives "<s>" the id 9, the vocabulary 5/],
  ['an unk_token that is not in the file', ({ json }) => ((json.model as Json).unk_token = '<unk>'), /model\.unk_token: "<unk>" is not a token of the file/],
];

for (const [what, change, message] of BAD) {
  test(`a tokenizer.json with ${what} is refused, naming the file and the key`, async () => {
    const { path, result } = await load(tokenizerJson(change));
    await assert.rejects(result, (e: Error) => {
      assert.equal(e.name, 'RefineryError');
      assert.ok(e.message.startsWith(`${path}: `), e.message);
      assert.match(e.message, message);
      return true;
    });
  });
}
