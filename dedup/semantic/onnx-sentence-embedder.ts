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
    private readonly modelFile: string,
  ) {}

  static async load(dir: string, maxTokens?: number): Promise<OnnxSentenceEmbedder> {
    const tokenizer = await SentenceTokenizer.load(join(dir, 'tokenizer.json'));
    const modelFile = join(dir, 'model.onnx');
    const session = await OnnxSession.load(modelFile);
    if (!session.inputNames.includes('input_ids')) throw new RefineryError(`${modelFile}: the model has no input_ids input (inputs: ${session.inputNames.join(', ')})`);
    const max = maxTokens ?? tokenizer.maxLength;
    const probe = new OnnxSentenceEmbedder(session, tokenizer, 0, '', max, modelFile);
    const dim = (await probe.raw(['dimension probe'])).dim;
    return new OnnxSentenceEmbedder(session, tokenizer, dim, `${dir} (max ${max} tokens)`, max, modelFile);
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
    const name = out.sentence_embedding ? 'sentence_embedding' : this.session.outputNames[0];
    const pooled = name === undefined ? undefined : out[name];
    const [batch, second, third] = pooled?.dims ?? [];
    if (pooled === undefined || batch !== texts.length || second === undefined || (third !== undefined && second !== len) || pooled.dims.length > 3) {
      throw new RefineryError(`${this.modelFile}: expected an output sentence_embedding [${texts.length}, dim] or a first output [${texts.length}, ${len}, hidden]; got ${name ?? 'no output'} ${pooled ? `[${pooled.dims.join(', ')}]` : ''}`);
    }
    const data = pooled.data as Float32Array;
    if (third === undefined) return { data: Float32Array.from(data), dim: second };
    const hidden = third;
    const result = new Float32Array(texts.length * hidden);
    encoded.forEach((e, r) => {
      for (let t = 0; t < e.length; t++) {
        const at = (r * len + t) * hidden;
        for (let h = 0; h < hidden; h++) result[r * hidden + h]! += data[at + h]!;
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
