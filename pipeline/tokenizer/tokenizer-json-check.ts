/**
 * Checks a Hugging Face tokenizer.json before it is used. @huggingface/tokenizers takes a
 * vocabulary as it is written: a negative, fractional or enormous id comes out of `encode` as
 * it is, and two tokens with one id decode as one, so such a file would write token ids that
 * no trainer (nor `refinery export megatron`) can use. Refused here, naming the file, the key
 * and the token:
 * - an id that is not a whole number from 0 to MAX_TOKEN_ID (token shards hold int32);
 * - two different tokens with one id (an added token may restate a vocabulary token: same text, same id);
 * - a special token the file relies on (the model's `unk_token`, a post-processor template's
 *   special tokens) that is not in it, or that the template gives another id than the vocabulary.
 */
import { RefineryError } from '../errors.ts';

/** The largest id a token shard (int32) holds. */
export const MAX_TOKEN_ID = 0x7fffffff;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The ids of every token the file defines, and its highest id + 1 (the vocabulary size). */
export interface TokenIds {
  idOf: Map<string, number>;
  vocabSize: number;
}

/** Throws a RefineryError naming `source` on the first problem; returns the file's token ids. */
export function checkTokenizerJson(json: Json, source: string): TokenIds {
  const fail = (key: string, problem: string): never => {
    throw new RefineryError(`${source}: ${key}: ${problem}; this tokenizer.json cannot be used as it is`);
  };
  const idOf = new Map<string, number>();
  const tokenOf = new Map<number, string>();
  let vocabSize = 0;
  const define = (key: string, token: string, id: unknown, restating: boolean) => {
    if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id > MAX_TOKEN_ID) {
      fail(key, `token ${JSON.stringify(token)} has id ${JSON.stringify(id)}; ids are whole numbers from 0 to ${MAX_TOKEN_ID}`);
    }
    const n = id as number;
    const other = tokenOf.get(n);
    if (other !== undefined && !(restating && other === token)) fail(key, `tokens ${JSON.stringify(other)} and ${JSON.stringify(token)} both have id ${n}`);
    const known = idOf.get(token);
    if (known !== undefined && known !== n) fail(key, `token ${JSON.stringify(token)} has id ${n} here and ${known} in the vocabulary`);
    tokenOf.set(n, token);
    idOf.set(token, n);
    vocabSize = Math.max(vocabSize, n + 1);
  };

  const model = json.model;
  if (!isObject(model)) fail('model', 'missing or not an object');
  const m = model as Json;
  const vocab = m.vocab;
  if (Array.isArray(vocab)) {
    // Unigram: [piece, score] pairs whose ids are their positions.
    vocab.forEach((entry, i) => {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string') fail(`model.vocab[${i}]`, 'not a [piece, score] pair');
      define(`model.vocab[${i}]`, (entry as [string])[0], i, false);
    });
  } else if (isObject(vocab)) {
    for (const [token, id] of Object.entries(vocab)) define('model.vocab', token, id, false);
  } else {
    fail('model.vocab', 'missing, or neither a token-to-id object nor a list of [piece, score] pairs');
  }

  const added = json.added_tokens ?? [];
  if (!Array.isArray(added)) fail('added_tokens', 'not a list');
  (added as unknown[]).forEach((t, i) => {
    if (!isObject(t) || typeof t.content !== 'string') fail(`added_tokens[${i}]`, 'not a token with a string "content"');
    define(`added_tokens[${i}]`, (t as { content: string }).content, (t as Json).id, true);
  });

  // A Unigram model's unk_id is a position in its vocabulary.
  if (typeof m.unk_token === 'string' && !idOf.has(m.unk_token)) fail('model.unk_token', `${JSON.stringify(m.unk_token)} is not a token of the file`);
  if (m.unk_id !== undefined && m.unk_id !== null && !(typeof m.unk_id === 'number' && tokenOf.has(m.unk_id))) fail('model.unk_id', `${JSON.stringify(m.unk_id)} is not an id of the file`);
  checkTemplate(json.post_processor, 'post_processor', idOf, fail);
  return { idOf, vocabSize };
}

/** A TemplateProcessing post-processor (possibly inside a Sequence): its special tokens exist, with the ids it gives them. */
function checkTemplate(processor: unknown, key: string, idOf: Map<string, number>, fail: (key: string, problem: string) => never): void {
  if (!isObject(processor)) return;
  if (processor.type === 'Sequence' && Array.isArray(processor.processors)) {
    processor.processors.forEach((p, i) => checkTemplate(p, `${key}.processors[${i}]`, idOf, fail));
    return;
  }
  if (processor.type !== 'TemplateProcessing' || !isObject(processor.special_tokens)) return;
  for (const [name, special] of Object.entries(processor.special_tokens)) {
    const where = `${key}.special_tokens.${name}`;
    if (!isObject(special) || !Array.isArray(special.ids) || !Array.isArray(special.tokens) || special.ids.length !== special.tokens.length) {
      fail(where, 'needs "ids" and "tokens" lists of one length');
    }
    const s = special as { ids: unknown[]; tokens: unknown[] };
    s.tokens.forEach((token, i) => {
      const id = typeof token === 'string' ? idOf.get(token) : undefined;
      if (id === undefined) fail(where, `special token ${JSON.stringify(token)} is not a token of the file`);
      if (s.ids[i] !== id) fail(where, `gives ${JSON.stringify(token)} the id ${JSON.stringify(s.ids[i])}, the vocabulary ${id}`);
    });
  }
}
