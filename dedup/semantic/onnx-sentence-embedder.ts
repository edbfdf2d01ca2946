/**
 * The plug-in path of semantic dedup: any sentence-embedding ONNX model in a folder with its
 * `tokenizer.json` (any model type: `sentence-tokenizer.ts`), e.g. an export of all-MiniLM-L6-v2,
 * bge-small-en or multilingual-e5-small. Feeds
 * `input_ids`, `attention_mask` and `token_type_ids` (those the model declares); takes the
 * output `sentence_embedding` when the model has one, else mean-pools its first output
 * (`last_hidden_state`, [batch, tokens, hidden]) over the attention mask; L2-normalises.
 */
import { join } from 'node:path';
import { OnnxSession, type OnnxFeed } from '../../pipeline/onnx/session.ts';
import { RefineryError } from '../../pipeline/errors.ts';
import { SentenceTokenizer } from './sentence-tokenizer.ts';
import { normalizeRows, type Embedder } from './embedder.ts';

export class OnnxSentenceEmbedder implements Embedder {
  private constructor(
    private readonly session: OnnxSession,
    private readonly tokenizer: SentenceTokenizer,
    readonly dim: number,
    readonly description: string,
    private readonly maxTokens: number,
  ) {}

  static async load(dir: string, maxTokens?: number): Promise<OnnxSentenceEmbedder> {
    const tokenizer = await SentenceTokenizer.load(join(dir, 'tokenizer.json'));
    const session = await OnnxSession.load(join(dir, 'model.onnx'));
    if (!session.inputNames.includes('input_ids')) throw new RefineryError(`${join(dir, 'model.onnx')}: the model has no input_ids input (inputs: ${session.inputNames.join(', ')})`);
    const max = maxTokens ?? tokenizer.maxLength;
    const probe = new OnnxSentenceEmbedder(session, tokenizer, 0, '', max);
    const dim = (await probe.raw(['dimension probe'])).dim;
    return new OnnxSentenceEmbedder(session, tokenizer, dim, `${dir} (max ${max} tokens)`, max);
  }

  private async raw(texts: string[]): Promise<{ data: Float32Array; dim: number }> {
    const encoded = texts.map((t) => this.tokenizer.encode(t, this.maxTokens));
    const len = Math.max(...encoded.map((e) => e.length));
    const ids = new BigInt64Array(texts.length * len);
    const mask = new BigInt64Array(texts.length * len);
    encoded.forEach((e, r) => e.forEach((id, i) => {
      ids[r * len + i] = BigInt(id);
      mask[r * len + i] = 1n;
    }));
    const dims = [texts.length, len];
    const feeds: Record<string, OnnxFeed> = { input_ids: { type: 'int64', data: ids, dims } };
    if (this.session.inputNames.includes('attention_mask')) feeds.attention_mask = { type: 'int64', data: mask, dims };
    if (this.session.inputNames.includes('token_type_ids')) feeds.token_type_ids = { type: 'int64', data: new BigInt64Array(ids.length), dims };
    const out = await this.session.run(feeds);
    const pooled = out.sentence_embedding ?? out[this.session.outputNames[0]];
    const data = pooled.data as Float32Array;
    if (pooled.dims.length === 2) return { data: Float32Array.from(data), dim: pooled.dims[1] };
    const hidden = pooled.dims[2];
    const result = new Float32Array(texts.length * hidden);
    encoded.forEach((e, r) => {
      for (let t = 0; t < e.length; t++) {
        const at = (r * len + t) * hidden;
        for (let h = 0; h < hidden; h++) result[r * hidden + h] += data[at + h];
      }
    });
    return { data: result, dim: hidden };
  }

  async embed(texts: string[]): Promise<Float32Array> {
    const { data, dim } = await this.raw(texts);
    return normalizeRows(data, dim);
  }

  close(): Promise<void> {
    return this.session.close();
  }
}
