/**
 * Reads a Hugging Face `tokenizer.json` of the WordPiece family (BERT, MiniLM, BGE, E5, GTE ...:
 * the usual sentence-embedding models) and encodes text to ids the way the `tokenizers` library
 * does: BertNormalizer (or a Sequence of NFD / Lowercase / StripAccents), BertPreTokenizer (or
 * Whitespace), greedy longest-match-first WordPiece with the `##` prefix, and the [CLS] … [SEP]
 * template. Other model types (BPE, Unigram) are refused with a clear error.
 */
import { readFile } from 'node:fs/promises';
import { RefineryError } from '../../pipeline/errors.ts';

interface NormalizerJson {
  type: string;
  lowercase?: boolean;
  strip_accents?: boolean | null;
  clean_text?: boolean;
  handle_chinese_chars?: boolean;
  normalizers?: NormalizerJson[];
}

interface TokenizerJson {
  normalizer?: NormalizerJson | null;
  pre_tokenizer?: { type: string } | null;
  model: { type: string; vocab: Record<string, number>; unk_token?: string; continuing_subword_prefix?: string; max_input_chars_per_word?: number };
  post_processor?: {
    type: string;
    cls?: [string, number];
    sep?: [string, number];
    single?: ({ SpecialToken: { id: string } } | { Sequence: { id: string } })[];
    special_tokens?: Record<string, { ids: number[] }>;
  } | null;
  truncation?: { max_length?: number } | null;
}

const CHINESE = /[\u4E00-\u9FFF\u3400-\u4DBF\u{20000}-\u{2A6DF}\u{2A700}-\u{2B73F}\u{2B740}-\u{2B81F}\u{2B820}-\u{2CEAF}\uF900-\uFAFF\u{2F800}-\u{2FA1F}]/gu;
const CONTROL = /[\p{Cc}\p{Cf}]/gu;
const PUNCT = /[\p{P}$+<=>^`|~]/u;

export class WordPieceTokenizer {
  private readonly vocab: Map<string, number>;
  private readonly unk: number;
  private readonly prefix: string;
  private readonly maxChars: number;
  private readonly lowercase: boolean;
  private readonly stripAccents: boolean;
  private readonly chinese: boolean;
  private readonly before: number[];
  private readonly after: number[];
  readonly maxLength: number;

  constructor(json: TokenizerJson, source: string) {
    if (json.model?.type !== 'WordPiece') {
      throw new RefineryError(`${source}: tokenizer model "${json.model?.type}" is not supported; semantic dedup reads WordPiece tokenizers (BERT family)`);
    }
    this.vocab = new Map(Object.entries(json.model.vocab));
    this.prefix = json.model.continuing_subword_prefix ?? '##';
    this.maxChars = json.model.max_input_chars_per_word ?? 100;
    const unk = this.vocab.get(json.model.unk_token ?? '[UNK]');
    if (unk === undefined) throw new RefineryError(`${source}: the unknown token "${json.model.unk_token}" is not in the vocabulary`);
    this.unk = unk;
    const norms = json.normalizer?.type === 'Sequence' ? (json.normalizer.normalizers ?? []) : json.normalizer ? [json.normalizer] : [];
    let lowercase = false;
    let strip: boolean | null | undefined = false;
    let chinese = false;
    for (const n of norms) {
      if (n.type === 'BertNormalizer') {
        lowercase = n.lowercase ?? true;
        strip = n.strip_accents;
        chinese = n.handle_chinese_chars ?? true;
      } else if (n.type === 'Lowercase') lowercase = true;
      else if (n.type === 'StripAccents') strip = true;
    }
    this.lowercase = lowercase;
    // BertNormalizer: strip_accents null means "follow lowercase".
    this.stripAccents = strip === null || strip === undefined ? lowercase : strip;
    this.chinese = chinese;
    const pp = json.post_processor;
    const id = (token: string): number => {
      const v = pp?.special_tokens?.[token]?.ids[0] ?? this.vocab.get(token);
      if (v === undefined) throw new RefineryError(`${source}: special token ${token} is not in the vocabulary`);
      return v;
    };
    this.before = [];
    this.after = [];
    if (pp?.type === 'BertProcessing' && pp.cls && pp.sep) {
      this.before.push(pp.cls[1]);
      this.after.push(pp.sep[1]);
    } else if (pp?.type === 'TemplateProcessing' && pp.single) {
      let seen = false;
      for (const piece of pp.single) {
        if ('Sequence' in piece) seen = true;
        else (seen ? this.after : this.before).push(id(piece.SpecialToken.id));
      }
    }
    this.maxLength = json.truncation?.max_length ?? 512;
  }

  static async load(path: string): Promise<WordPieceTokenizer> {
    let json: TokenizerJson;
    try {
      json = JSON.parse(await readFile(path, 'utf8')) as TokenizerJson;
    } catch (e) {
      throw new RefineryError(`${path}: cannot read tokenizer.json: ${(e as Error).message}`);
    }
    return new WordPieceTokenizer(json, path);
  }

  private normalize(text: string): string {
    // Whitespace first: \t \n \r are control characters too, but separate words.
    let t = text.replace(/\s/gu, ' ').replace(CONTROL, '');
    if (this.chinese) t = t.replace(CHINESE, (c) => ` ${c} `);
    if (this.lowercase) t = t.toLowerCase();
    if (this.stripAccents) t = t.normalize('NFD').replace(/\p{Mn}+/gu, '');
    return t;
  }

  /** Whitespace split, then every punctuation character on its own (BertPreTokenizer). */
  private preTokenize(text: string): string[] {
    const out: string[] = [];
    for (const chunk of text.split(' ')) {
      let word = '';
      for (const ch of chunk) {
        if (PUNCT.test(ch)) {
          if (word) out.push(word);
          out.push(ch);
          word = '';
        } else word += ch;
      }
      if (word) out.push(word);
    }
    return out;
  }

  private wordPiece(word: string, out: number[]): void {
    const chars = [...word];
    if (chars.length > this.maxChars) {
      out.push(this.unk);
      return;
    }
    const pieces: number[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: number | undefined;
      while (start < end) {
        const sub = (start > 0 ? this.prefix : '') + chars.slice(start, end).join('');
        found = this.vocab.get(sub);
        if (found !== undefined) break;
        end--;
      }
      if (found === undefined) {
        out.push(this.unk);
        return;
      }
      pieces.push(found);
      start = end;
    }
    out.push(...pieces);
  }

  /** Ids with the special tokens, truncated to `maxTokens` (default: the tokenizer's max_length). */
  encode(text: string, maxTokens = this.maxLength): number[] {
    const body: number[] = [];
    const room = maxTokens - this.before.length - this.after.length;
    for (const w of this.preTokenize(this.normalize(text))) {
      this.wordPiece(w, body);
      if (body.length >= room) break;
    }
    return [...this.before, ...body.slice(0, Math.max(0, room)), ...this.after];
  }
}
