/**
 * fastText's supervised prediction (`FastText::predictLine`) for a model read by ftz-format.ts,
 * written again in TypeScript for lid.176: one line of text → word and character n-gram rows →
 * their average → hierarchical softmax → the k best labels. Every step does the float32 arithmetic
 * of fastText's C++ in the same order (facebookresearch/fastText: src/dictionary.cc `getLine`,
 * `computeSubwords`, `hash`; src/quantmatrix.cc `averageRowsToVector`; src/loss.cc
 * `HierarchicalSoftmaxLoss::dfs`), so its labels and scores are fastText's (tests/lid-inference.test.ts
 * compares them with the fasttext.wasm.js build).
 *
 * The text is read as JavaScript characters, never copied to UTF-8 as a whole: tokens are cut where
 * fastText cuts the UTF-8 bytes, and only a word outside the dictionary is encoded, once, to hash
 * its character n-grams.
 */
import { FtzFormatError, LOSS_HIERARCHICAL_SOFTMAX, type FtzModel } from './ftz-format.ts';
import { expf, stdLog } from './float32-math.ts';
import { BucketIndex } from './bucket-index.ts';
import { isWhiteSpace } from './prefix.ts';
import { SPAN_HASH_SEED, SpanTable, spanHash, spanHashStep } from './span-table.ts';
import { writeUtf8 } from '../../pipeline/utf8.ts';
import { KBestHeap } from '../../pipeline/fasttext/k-best-heap.ts';
import { huffmanTree } from '../../pipeline/fasttext/huffman-tree.ts';

export interface LabelPrediction {
  /** The label without fastText's `__label__` prefix. */
  label: string;
  /** fastText's probability: `expf` of the summed float32 log-probabilities. */
  score: number;
}

const LABEL_PREFIX = '__label__';
/** lid.176's dimension; `addRows` is written for it. */
const DIM = 16;
const EOS = '</s>';
/**
 * Slots of the token table: the dictionary (7,411 entries in lid.176) and the words outside it seen
 * so far, up to three quarters of the slots; then those are forgotten at once.
 */
const TOKEN_SLOTS = 2 ** 18;

/** FNV-1a over UTF-8 bytes as `Dictionary::hash` does it: each byte sign-extended (`int8_t`) before the xor. */
function fnvStep(h: number, byte: number): number {
  return Math.imul(h ^ (byte >= 0x80 ? byte | 0xffffff00 : byte), 16777619);
}
const FNV_OFFSET = 2166136261 | 0;

export class LidClassifier {
  private readonly minn: number;
  private readonly maxn: number;
  private readonly bucket: number;
  private readonly nwords: number;
  /** Bucket → input row; undefined when every bucket has its own row. */
  private readonly pruned: BucketIndex | undefined;
  private readonly input: Float32Array;
  private readonly output: Float32Array;
  private readonly labels: string[];
  private readonly osz: number;
  private readonly left: Int32Array;
  private readonly right: Int32Array;
  /**
   * Input rows of every token: the dictionary's entries (`Dictionary::initNgrams`; none for a
   * label), kept, and those computed for words outside it, forgotten when the table is full.
   */
  private readonly tokens = new SpanTable(TOKEN_SLOTS);
  private readonly eosSlot: number;
  private readonly hidden: Float32Array;
  private utf8 = new Uint8Array(256);
  private rowScratch = new Int32Array(1024);
  private readonly logThreshold = stdLog(0);
  private heap = new KBestHeap(1);

  constructor(model: FtzModel, file: string) {
    const { args } = model;
    if (args.loss !== LOSS_HIERARCHICAL_SOFTMAX) throw new FtzFormatError(file, `loss ${args.loss}: only hierarchical softmax (lid.176's) is implemented`);
    if (args.wordNgrams > 1) throw new FtzFormatError(file, `wordNgrams ${args.wordNgrams}: only single words (lid.176's) are implemented`);
    if (args.dim !== DIM) throw new FtzFormatError(file, `dimension ${args.dim}: only ${DIM} (lid.176's) is implemented`);
    this.minn = args.minn;
    this.maxn = args.maxn;
    this.bucket = args.bucket;
    this.nwords = model.nwords;
    this.pruned = model.pruned && new BucketIndex(args.bucket, model.pruned.buckets, model.pruned.rows);
    this.input = model.input;
    this.output = model.output;
    this.hidden = new Float32Array(DIM);
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    const labels: string[] = [];
    const counts: number[] = [];
    model.entries.forEach((entry, id) => {
      if (entry.isLabel) {
        const label = new TextDecoder().decode(entry.bytes);
        labels.push(label.startsWith(LABEL_PREFIX) ? label.slice(LABEL_PREFIX.length) : label);
        counts.push(entry.count);
      }
      let word: string;
      try {
        word = utf8.decode(entry.bytes);
      } catch {
        return; // not UTF-8: no token of a JavaScript string can be this entry
      }
      // A label in the text is neither a word nor a target at prediction: it adds no rows.
      let count = 0;
      if (!entry.isLabel) {
        this.rowScratch[0] = id;
        count = word === EOS ? 1 : this.subwordRows(this.withBoundaries(entry.bytes), 1);
      }
      this.tokens.add(word, 0, word.length, spanHash(word), this.rowScratch.subarray(0, count));
    });
    this.tokens.keep();
    this.labels = labels;
    this.osz = labels.length;
    if (this.output.length !== this.osz * DIM) throw new FtzFormatError(file, 'output matrix rows differ from the label count');
    this.eosSlot = this.tokens.find(EOS, 0, EOS.length, spanHash(EOS));
    if (this.eosSlot < 0) throw new FtzFormatError(file, `no ${EOS} in the dictionary`);
    ({ left: this.left, right: this.right } = huffmanTree(counts));
  }

  /**
   * The `k` most probable labels of one line of text, best first: what fastText's `predict(text, k, 0)`
   * (threshold 0) returns for `normaliseForLid(text)` with lone surrogates made U+FFFD. Tokens are cut
   * at JavaScript white space (which that normalisation folds into the spaces fastText splits at)
   * and at U+0000.
   */
  predict(text: string, k: number): LabelPrediction[] {
    const hidden = this.hidden;
    hidden.fill(0);
    let rowCount = 0;
    let start = -1;
    let hash = SPAN_HASH_SEED;
    let surrogate = false;
    let ended = false;
    for (let i = 0; i <= text.length; i++) {
      const code = i < text.length ? text.charCodeAt(i) : 0;
      if ((code > 0x20 && code < 0x7f) || (code !== 0 && !isWhiteSpace(code))) {
        if (start < 0) {
          start = i;
          hash = SPAN_HASH_SEED;
        }
        hash = spanHashStep(hash, code);
        if (code >= 0xd800 && code <= 0xdfff) surrogate = true;
      } else if (start >= 0) {
        const slot = this.slotOf(text, start, i, hash, surrogate);
        rowCount += this.addRows(slot);
        // `Dictionary::getLine` ends the line at the end-of-sentence token, also when the text has it.
        if (slot === this.eosSlot) {
          ended = true;
          break;
        }
        start = -1;
        surrogate = false;
      }
    }
    if (!ended) rowCount += this.addRows(this.eosSlot);
    if (rowCount === 0) return [];
    const scale = Math.fround(1 / rowCount);
    for (let j = 0; j < DIM; j++) hidden[j] = hidden[j]! * scale;

    this.heap = new KBestHeap(k);
    this.dfs(k, 2 * this.osz - 2, 0);
    return this.heap.sorted().map((p) => ({ label: this.labels[p.index]!, score: expf(p.score) }));
  }

  /**
   * Adds a token's rows to the hidden vector in order, one float32 sum per element (the sums of
   * `QuantMatrix::averageRowsToVector`); returns how many. The 16 elements stay in locals across
   * the token's rows instead of being loaded from and stored to the Float32Array for each row.
   */
  private addRows(slot: number): number {
    const { hidden: h, input } = this;
    const rows = this.tokens.rows;
    const first = this.tokens.rowsStart(slot);
    const count = this.tokens.rowsCount(slot);
    let h0 = h[0]!, h1 = h[1]!, h2 = h[2]!, h3 = h[3]!, h4 = h[4]!, h5 = h[5]!, h6 = h[6]!, h7 = h[7]!;
    let h8 = h[8]!, h9 = h[9]!, h10 = h[10]!, h11 = h[11]!, h12 = h[12]!, h13 = h[13]!, h14 = h[14]!, h15 = h[15]!;
    for (let r = first; r < first + count; r++) {
      const b = rows[r]! * DIM;
      h0 = Math.fround(h0 + input[b]!);
      h1 = Math.fround(h1 + input[b + 1]!);
      h2 = Math.fround(h2 + input[b + 2]!);
      h3 = Math.fround(h3 + input[b + 3]!);
      h4 = Math.fround(h4 + input[b + 4]!);
      h5 = Math.fround(h5 + input[b + 5]!);
      h6 = Math.fround(h6 + input[b + 6]!);
      h7 = Math.fround(h7 + input[b + 7]!);
      h8 = Math.fround(h8 + input[b + 8]!);
      h9 = Math.fround(h9 + input[b + 9]!);
      h10 = Math.fround(h10 + input[b + 10]!);
      h11 = Math.fround(h11 + input[b + 11]!);
      h12 = Math.fround(h12 + input[b + 12]!);
      h13 = Math.fround(h13 + input[b + 13]!);
      h14 = Math.fround(h14 + input[b + 14]!);
      h15 = Math.fround(h15 + input[b + 15]!);
    }
    h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7;
    h[8] = h8; h[9] = h9; h[10] = h10; h[11] = h11; h[12] = h12; h[13] = h13; h[14] = h14; h[15] = h15;
    return count;
  }

  /** The table slot of the token `text[start, end)`, whose `spanHash` is `hash`. */
  private slotOf(text: string, start: number, end: number, hash: number, surrogate: boolean): number {
    if (surrogate) {
      const token = text.slice(start, end);
      const fixed = wellFormed(token);
      if (fixed !== token) return this.slotOf(fixed, 0, fixed.length, spanHash(fixed), false);
    }
    const slot = this.tokens.find(text, start, end, hash);
    return slot >= 0 ? slot : this.addWord(text, start, end, hash);
  }

  /** Computes and remembers the rows of a token outside the dictionary; returns its slot. */
  private addWord(text: string, start: number, end: number, hash: number): number {
    // `Dictionary::getType`: an unknown token that starts like a label is neither word nor label.
    const count = text.startsWith(LABEL_PREFIX, start) ? 0 : this.subwordRows(this.encodeWithBoundaries(text, start, end), 0);
    if (this.tokens.full) this.tokens.reset();
    return this.tokens.add(text, start, end, hash, this.rowScratch.subarray(0, count));
  }

  private withBoundaries(word: Uint8Array): Uint8Array {
    const out = new Uint8Array(word.length + 2);
    out[0] = 0x3c; // <
    out.set(word, 1);
    out[word.length + 1] = 0x3e; // >
    return out;
  }

  /** `<` + the UTF-8 of `text[start, end)` (well formed) + `>`, in a reused buffer (a view of its filled part). */
  private encodeWithBoundaries(text: string, start: number, end: number): Uint8Array {
    if (this.utf8.length < 3 * (end - start) + 2) this.utf8 = new Uint8Array(3 * (end - start) + 2);
    const out = this.utf8;
    out[0] = 0x3c;
    let n = writeUtf8(text, start, end, out, 1);
    out[n++] = 0x3e;
    return out.subarray(0, n);
  }

  /**
   * `Dictionary::computeSubwords` + `pushHash`: the character n-grams (minn..maxn characters, not
   * a lone boundary mark) of a word with its boundaries, hashed into buckets, mapped through the
   * pruning index to input rows, written to `rowScratch` from `at` on; returns where they end.
   */
  private subwordRows(word: Uint8Array, at: number): number {
    const { minn, maxn, bucket, pruned, nwords } = this;
    const len = word.length;
    if (this.rowScratch.length < at + len * maxn) this.rowScratch = new Int32Array(at + len * maxn);
    const rows = this.rowScratch;
    let count = at;
    for (let i = 0; i < len; i++) {
      if ((word[i]! & 0xc0) === 0x80) continue;
      let h = FNV_OFFSET;
      for (let j = i, n = 1; j < len && n <= maxn; n++) {
        h = fnvStep(h, word[j++]!);
        while (j < len && (word[j]! & 0xc0) === 0x80) h = fnvStep(h, word[j++]!);
        if (n >= minn && !(n === 1 && (i === 0 || j === len))) {
          // (h >>> 0) % bucket without a floating-point remainder; exact, as h < 2^32.
          const u = h >>> 0;
          const b = u - Math.floor(u / bucket) * bucket;
          const row = pruned === undefined ? b : pruned.row(b);
          if (row >= 0) rows[count++] = nwords + row;
        }
      }
    }
    return count;
  }

  /** `HierarchicalSoftmaxLoss::dfs`, float32 like the C++. */
  private dfs(k: number, node: number, score: number): void {
    if (score < this.logThreshold) return;
    const heap = this.heap;
    if (heap.full && score < heap.lowest) return;
    if (node < this.osz) {
      heap.push(score, node);
      return;
    }
    const { hidden, output } = this;
    const base = (node - this.osz) * DIM;
    let f = 0;
    for (let j = 0; j < DIM; j++) f = Math.fround(f + Math.fround(output[base + j]! * hidden[j]!));
    f = Math.fround(1 / Math.fround(1 + expf(-f)));
    this.dfs(k, this.left[node]!, Math.fround(score + stdLog(Math.fround(1 - f))));
    this.dfs(k, this.right[node]!, Math.fround(score + stdLog(f)));
  }
}


/** ES2024's `String.prototype.toWellFormed` (lone surrogates → U+FFFD), which Node 20 has and the ES2023 typings lack. */
function wellFormed(text: string): string {
  return (text as unknown as { toWellFormed(): string }).toWellFormed();
}
