/**
 * The tokenize stage with a Hugging Face tokenizer.json the test builds (byte-level BPE, GPT-2
 * style, and a Unigram one with a <s> … </s> template): ids, BOS/EOS from the file or options,
 * special tokens never produced from text, the manifest, and the Megatron export of a small
 * vocabulary (uint16).
 */
import { test } from 'node:test';
import { tempDir } from './temp-dirs.ts';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Doc } from '../pipeline/doc.ts';
import type { GlobalStage } from '../pipeline/stage.ts';
import { tokenizeStage } from '../mixes/shards/tokenize.ts';
import type { TokenizeOptions } from '../mixes/shards/tokenize-options.ts';
import type { TokenizeManifest } from '../mixes/shards/manifest.ts';
import { exportMegatron } from '../mixes/shards/megatron-export.ts';
import { HuggingFaceTokenizer } from '../pipeline/tokenizer/huggingface-tokenizer.ts';
import { folderFiles } from '../pipeline/run-folder/files.ts';


/** GPT-2 style byte-level BPE: the 256 byte symbols, a few merges, <s>/</s>/<pad> as special added tokens. */
function byteLevelBpe(): Record<string, unknown> {
  const bytes: string[] = [];
  // GPT-2's byte-to-unicode table: printable bytes map to themselves, the rest to U+0100 onwards.
  let extra = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
    bytes.push(String.fromCodePoint(printable ? b : 256 + extra++));
  }
  const merges = ['l o', 'lo w', 'e r', 'Ġ low', 'Ġ t', 'h e', 'Ġt he'];
  const vocab = [...bytes, 'lo', 'low', 'er', 'Ġlow', 'Ġt', 'he', 'Ġthe'];
  const added = ['<s>', '</s>', '<pad>'].map((content, i) => ({ id: vocab.length + i, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  return {
    version: '1.0',
    added_tokens: added,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [],
      special_tokens: { '<s>': { id: '<s>', ids: [263], tokens: ['<s>'] }, '</s>': { id: '</s>', ids: [264], tokens: ['</s>'] } },
    },
    decoder: { type: 'ByteLevel', add_prefix_space: true, trim_offsets: true, use_regex: true },
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null, fuse_unk: false, byte_fallback: false, vocab: Object.fromEntries(vocab.map((w, i) => [w, i])), merges },
  };
}

async function writeTokenizer(json: Record<string, unknown>, config?: Record<string, unknown>): Promise<string> {
  const dir = await tempDir('refinery-tokjson-');
  await writeFile(join(dir, 'tokenizer.json'), JSON.stringify(json));
  if (config) await writeFile(join(dir, 'tokenizer_config.json'), JSON.stringify(config));
  return join(dir, 'tokenizer.json');
}

async function* iterate<T>(items: readonly T[]): AsyncIterable<T> {
  yield* items;
}

async function runTokenize(shards: Doc[][], options: Partial<TokenizeOptions>): Promise<{ out: string; docs: Doc[]; errors: string[] }> {
  const out = await tempDir('refinery-tokjson-run-');
  const stage = (await tokenizeStage.create(tokenizeStage.options.parse(options) as TokenizeOptions, {
    baseDir: out, outputDir: out, workDir: join(out, 'work'), seed: 0, keyPath: 'stages[0]', files: folderFiles,
  })) as GlobalStage;
  for (let i = 0; i < shards.length; i++) await stage.map({ index: i, count: shards.length }, iterate(shards[i]!));
  await stage.reduce(0, shards.length);
  const docs: Doc[] = [];
  const errors: string[] = [];
  for (let i = 0; i < shards.length; i++) {
    const applier = await stage.applier({ index: i, count: shards.length });
    for (const d of shards[i]!) {
      const copy = { ...d, meta: { ...d.meta } };
      try {
        await applier.process([copy]);
        docs.push(copy);
      } catch (e) {
        errors.push(`${d.id}: ${(e as Error).message}`);
      }
    }
  }
  return { out, docs, errors };
}

test('byte-level BPE tokenizer.json: merges applied, BOS/EOS from the template, <s> in text is not BOS', async () => {
  const path = await writeTokenizer(byteLevelBpe());
  const t = await HuggingFaceTokenizer.load(path);
  assert.equal(t.vocabSize, 266);
  assert.equal(t.bosId, 263);
  assert.equal(t.eosId, 264);
  // "lower the" → low, er, Ġthe
  assert.deepEqual(Array.from(t.encodeDocument('lower the')), [263, 257, 258, 262, 264]);
  // <s> in a document is the characters "<", "s", ">": byte symbols, id = byte value (0x3C, 0x73, 0x3E)
  assert.deepEqual(Array.from(t.encodeDocument('<s>')), [263, 60, 115, 62, 264]);
  assert.equal(t.vocabularySha256, createHash('sha256').update(await readFile(path)).digest('hex'));
});

test('BOS/EOS: tokenizer_config.json names them; options win; a missing BOS is an error naming the option', async () => {
  const withConfig = await writeTokenizer(byteLevelBpe(), { bos_token: { content: '<pad>' }, eos_token: '</s>' });
  const fromConfig = await HuggingFaceTokenizer.load(withConfig);
  assert.deepEqual([fromConfig.bosId, fromConfig.eosId], [265, 264]);
  const fromOptions = await HuggingFaceTokenizer.load(withConfig, { bos_token: '<s>', eos_token: '<pad>' });
  assert.deepEqual([fromOptions.bosId, fromOptions.eosId], [263, 265]);

  const bare = { ...byteLevelBpe(), post_processor: null };
  const noTemplate = await writeTokenizer(bare);
  await assert.rejects(HuggingFaceTokenizer.load(noTemplate, {}, 'stages[4].options'), /no BOS token: .*set stages\[4\]\.options\.bos_token/);
  await assert.rejects(HuggingFaceTokenizer.load(noTemplate, { bos_token: '<nope>', eos_token: '</s>' }, 'stages[4].options'), /stages\[4\]\.options\.bos_token: "<nope>" is not a token/);
  await assert.rejects(HuggingFaceTokenizer.load(noTemplate, { bos_token: '</s>', eos_token: '</s>' }), /BOS and EOS are the same token/);
});

test('tokenize stage with tokenizer.json: Parquet ids, manifest records the file hash and special ids, Megatron export is uint16', async () => {
  const path = await writeTokenizer(byteLevelBpe());
  const t = await HuggingFaceTokenizer.load(path);
  const texts = ['lower the low', 'the lower', 'hello world, ünïcode 東京', 'low low low <s> </s>', 'the'];
  const shards: Doc[][] = [texts.slice(0, 3), texts.slice(3)].map((part, s) => part.map((text, i) => ({ id: `s${s}-${i}`, text, meta: { source: 'web' } })));
  const { out, docs, errors } = await runTokenize(shards, { tokenizer: path });
  assert.deepEqual(errors, []);

  const manifest = JSON.parse(await readFile(join(out, 'tokens', '_manifest.json'), 'utf8')) as TokenizeManifest;
  assert.deepEqual(manifest.tokenizer, { name: 'huggingface', path, vocab_size: 266, vocabulary_sha256: t.vocabularySha256, bos_id: 263, eos_id: 264 });
  assert.equal(manifest.totals.docs, 5);

  const con = await (await DuckDBInstance.create(':memory:')).connect();
  const rows = (await con.runAndReadAll(`select id, input_ids from read_parquet('${join(out, 'tokens', '*.parquet')}') order by id`)).getRowObjectsJson();
  const expected = shards.flat().map((d) => ({ id: d.id, input_ids: Array.from(t.encodeDocument(d.text)) })).sort((a, b) => (a.id < b.id ? -1 : 1));
  assert.deepEqual(rows, expected);
  assert.deepEqual(docs.map((d) => d.meta.num_tokens), shards.flat().map((d) => t.encodeDocument(d.text).length));
  const [kv] = (await con.runAndReadAll(`select decode(value) as v from parquet_kv_metadata('${join(out, 'tokens', manifest.shards[0]!.file)}') where decode(key) = 'refinery'`)).getRowObjectsJson();
  assert.deepEqual(JSON.parse(String(kv!.v)), { tokenizer: 'huggingface', vocabulary_sha256: t.vocabularySha256, bos_id: 263, eos_id: 264, seq_len: null });

  const prefix = join(await tempDir('refinery-tokjson-megatron-'), 'small');
  const exported = await exportMegatron(out, prefix);
  assert.equal(exported.dtype, 'uint16');
  const idx = await readFile(`${prefix}.idx`);
  assert.equal(idx.readUInt8(17), 8, 'dtype code 8 = uint16');
  const bin = await readFile(`${prefix}.bin`);
  const ids = Array.from({ length: bin.length / 2 }, (_, i) => bin.readUInt16LE(i * 2));
  const manifestOrder = (await con.runAndReadAll(`select input_ids from read_parquet([${manifest.shards.map((s) => `'${join(out, 'tokens', s.file)}'`).join(',')}])`)).getRowObjectsJson();
  assert.deepEqual(ids, manifestOrder.flatMap((r) => r.input_ids as number[]));
});

test('a text that the tokenizer turns into the BOS id goes to the error output, the others are written', async () => {
  // A WordPiece vocabulary where "[CLS]" is also an ordinary word: text "[CLS]" would be BOS.
  const json = {
    added_tokens: [
      { id: 0, content: '[CLS]', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
      { id: 1, content: '[SEP]', special: true, single_word: false, lstrip: false, rstrip: false, normalized: false },
    ],
    pre_tokenizer: { type: 'WhitespaceSplit' },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: { '[CLS]': 0, '[SEP]': 1, '[UNK]': 2, hello: 3, world: 4 } },
  };
  const path = await writeTokenizer(json, { bos_token: '[CLS]', eos_token: '[SEP]' });
  const { out, errors } = await runTokenize([[{ id: 'a', text: 'hello world', meta: {} }, { id: 'b', text: 'hello [CLS]', meta: {} }]], { tokenizer: path });
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^b: the text encodes to the BOS id 0/);
  const manifest = JSON.parse(await readFile(join(out, 'tokens', '_manifest.json'), 'utf8')) as TokenizeManifest;
  assert.equal(manifest.totals.docs, 1);
  assert.equal(manifest.totals.docs_errored, 1);
  assert.equal(manifest.tokenizer.vocab_size, 5);
});
