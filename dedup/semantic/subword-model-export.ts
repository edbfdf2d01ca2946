/**
 * Trains and exports a small sentence-embedding model in the plug-in format (a folder with
 * `model.onnx` + `tokenizer.json`), so the project's own model goes through the same path as a
 * downloaded one: a WordPiece vocabulary of the corpus's most frequent words plus every
 * character seen (as itself and as `##c`, so any word of those characters tokenises), and one
 * fixed random Gaussian vector per token scaled by the token's IDF in the corpus. The model
 * outputs `last_hidden_state` (token vectors, masked), which the embedder mean-pools: an
 * IDF-weighted random projection of the bag of subwords.
 */
import { join } from 'node:path';
import { writeFileAtomic } from '../../pipeline/io/atomic.ts';
import { OnnxGraphBuilder } from '../../pipeline/onnx/builder.ts';
import { gaussians } from './hashed-ngram-embedder.ts';

export interface SubwordModelSettings {
  vocabSize: number;
  dim: number;
  seed: number;
}

const SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]'];

function words(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFD')
    .replace(/\p{Mn}+/gu, '')
    .split(/[\s\p{P}$+<=>^`|~]+/u)
    .filter(Boolean);
}

/** Trains on `texts` and writes `<dir>/model.onnx` and `<dir>/tokenizer.json`; returns the vocabulary size and documents read. */
export async function exportSubwordEmbeddingModel(
  texts: Iterable<string> | AsyncIterable<string>,
  dir: string,
  s: SubwordModelSettings,
): Promise<{ vocabulary: number; documents: number }> {
  const df = new Map<string, number>();
  const chars = new Set<string>();
  let docs = 0;
  for await (const t of texts) {
    docs++;
    const seen = new Set(words(t));
    for (const w of seen) {
      df.set(w, (df.get(w) ?? 0) + 1);
      for (const c of w) chars.add(c);
    }
  }
  const vocab: string[] = [...SPECIALS];
  for (const c of [...chars].sort()) vocab.push(c, `##${c}`);
  const frequent = [...df.entries()].filter(([w]) => [...w].length > 1).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
  for (const [w] of frequent) {
    if (vocab.length >= s.vocabSize) break;
    vocab.push(w);
  }
  const vectors = gaussians(vocab.length * s.dim, s.seed ^ 0x737562);
  vocab.forEach((token, id) => {
    const base = token.startsWith('##') ? token.slice(2) : token;
    const idf = id < SPECIALS.length ? 0 : Math.log((docs + 1) / ((df.get(base) ?? 0) + 1)) + 1;
    for (let i = id * s.dim; i < (id + 1) * s.dim; i++) vectors[i]! *= idf;
  });

  const g = new OnnxGraphBuilder('refinery_subword_embedding');
  g.input('input_ids', 'int64', ['batch', 'tokens']);
  g.input('attention_mask', 'int64', ['batch', 'tokens']);
  g.initializer('embeddings', 'float32', [vocab.length, s.dim], vectors);
  g.initializer('axis_2', 'int64', [1], [2]);
  const [tokens] = g.node('Gather', ['embeddings', 'input_ids'], 1, { axis: { int: 0 } });
  const [maskFloat] = g.node('Cast', ['attention_mask'], 1, { to: { int: 1 } });
  const [mask3] = g.node('Unsqueeze', [maskFloat, 'axis_2'], 1);
  g.node('Mul', [tokens, mask3], ['last_hidden_state']);
  g.output('last_hidden_state', 'float32', ['batch', 'tokens', s.dim]);
  await writeFileAtomic(join(dir, 'model.onnx'), g.toBytes({ docString: `IDF-weighted random projection of ${vocab.length} WordPiece tokens to ${s.dim} dims` }));

  const tokenizer = {
    version: '1.0',
    truncation: { max_length: 512 },
    padding: null,
    added_tokens: SPECIALS.map((content, id) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true })),
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: true },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
      pair: [],
      special_tokens: { '[CLS]': { id: '[CLS]', ids: [2], tokens: ['[CLS]'] }, '[SEP]': { id: '[SEP]', ids: [3], tokens: ['[SEP]'] } },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab: Object.fromEntries(vocab.map((t, i) => [t, i])) },
  };
  await writeFileAtomic(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  return { vocabulary: vocab.length, documents: docs };
}
