/**
 * fastText's supervised prediction (`FastText::predictLine`) for any classifier file that
 * filters/langid/ftz-format.ts reads: a `.bin` (dense input matrix) or a `.ftz` (quantised, pruned),
 * with softmax, one-vs-all, negative-sampling or hierarchical-softmax output, word n-grams and
 * character n-grams. This is what DCLM's and FineWeb-2's published classifiers are. Every step
 * repeats the float32 arithmetic of fastText's C++ in the same order (facebookresearch/fastText:
 * src/dictionary.cc `getLine`, `addSubwords`, `computeSubwords`, `addWordNgrams`; src/densematrix.cc
 * `averageRowsToVector`, `dotRow`; src/loss.cc `computeOutput`, `findKBest`, `dfs`), so labels and
 * probabilities are fastText's (tests/classifiers-fasttext-file.test.ts compares them with the
 * fasttext.wasm.js build, bit for bit).
 *
 * lid.176 has its own, faster inference (filters/langid/lid-inference.ts), written for its shape.
 */
import { FtzFormatError, LOSS_HIERARCHICAL_SOFTMAX, type FtzModel } from '../../filters/langid/ftz-format.ts';
import { expf, stdLog } from '../../filters/langid/float32-math.ts';
import { BucketIndex } from '../../filters/langid/bucket-index.ts';
import { KBestHeap } from '../../pipeline/fasttext/k-best-heap.ts';
import { huffmanTree } from '../../pipeline/fasttext/huffman-tree.ts';

/** `loss_name` in src/args.h. */
const LOSS_NEGATIVE_SAMPLING = 2;
const LOSS_SOFTMAX = 3;
const LOSS_ONE_VS_ALL = 4;

const LABEL_PREFIX = '__label__';
const EOS = '</s>';
/** Words outside the dictionary whose rows are remembered, then forgotten at once. */
const UNKNOWN_WORDS_KEPT = 100_000;

export interface FastTextPrediction {
  /** The label without fastText's `__label__` prefix. */
  label: string;
  /** What fastText's `predict` returns: `exp(log(p + 1e-5))` of the model's probability p. */
  probability: number;
}

/** The bytes `Dictionary::readWord` splits at: space, \n, \r, \t, \v, \f and NUL. */
function isSeparator(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09 || code === 0x0b || code === 0x0c || code === 0;
}

/** `Dictionary::hash`: FNV-1a over the UTF-8 bytes, each byte sign-extended (`int8_t`) before the xor; as an int32. */
function fastTextHash(bytes: Uint8Array): number {
  let h = 2166136261 | 0;
  for (const byte of bytes) h = Math.imul(h ^ (byte >= 0x80 ? byte | 0xffffff00 : byte), 16777619);
  return h;
}

const WORD_NGRAM_MULTIPLIER = 116049371n;

export class FastTextSupervisedModel {
  /** Label names in the model's order (its output rows), without the prefix. */
  readonly labels: string[];
  readonly loss: number;
  private readonly dim: number;
  private readonly wordNgrams: number;
  private readonly minn: number;
  private readonly maxn: number;
  private readonly bucket: number;
  private readonly bigBucket: bigint;
  private readonly nwords: number;
  private readonly pruned: BucketIndex | undefined;
  private readonly input: Float32Array;
  private readonly output: Float32Array;
  private readonly osz: number;
  /** Word → dictionary id, for words (labels apart). */
  private readonly words = new Map<string, number>();
  /** Label token → label index: a label in the text is neither a word nor a feature. */
  private readonly labelTokens = new Set<string>();
  private readonly wordRows = new Map<number, Int32Array>();
  private readonly unknownRows = new Map<string, Int32Array>();
  private readonly tree: { left: Int32Array; right: Int32Array } | undefined;
  private readonly sigmoid: Float32Array;
  private readonly encoder = new TextEncoder();

  constructor(model: FtzModel, file: string) {
    const { args } = model;
    if (![LOSS_HIERARCHICAL_SOFTMAX, LOSS_NEGATIVE_SAMPLING, LOSS_SOFTMAX, LOSS_ONE_VS_ALL].includes(args.loss)) {
      throw new FtzFormatError(file, `unknown loss ${args.loss}`);
    }
    this.loss = args.loss;
    this.dim = args.dim;
    this.wordNgrams = args.wordNgrams;
    this.minn = args.minn;
    this.maxn = args.maxn;
    this.bucket = args.bucket;
    this.bigBucket = BigInt(args.bucket);
    this.nwords = model.nwords;
    this.pruned = model.pruned && new BucketIndex(args.bucket, model.pruned.buckets, model.pruned.rows);
    this.input = model.input;
    this.output = model.output;
    const decoder = new TextDecoder('utf-8');
    const labels: string[] = [];
    const counts: number[] = [];
    model.entries.forEach((entry, id) => {
      const word = decoder.decode(entry.bytes);
      if (entry.isLabel) {
        labels.push(word.startsWith(LABEL_PREFIX) ? word.slice(LABEL_PREFIX.length) : word);
        counts.push(entry.count);
        this.labelTokens.add(word);
      } else this.words.set(word, id);
    });
    this.labels = labels;
    this.osz = labels.length;
    if (this.osz === 0) throw new FtzFormatError(file, 'the model has no label');
    // One row per label (hierarchical softmax uses the first osz − 1, one per inner node of its tree).
    if (this.output.length !== this.osz * this.dim) throw new FtzFormatError(file, 'output matrix rows differ from the label count');
    if (this.input.length !== model.inputRows * this.dim) throw new FtzFormatError(file, 'input matrix size differs from its rows');
    this.tree = this.loss === LOSS_HIERARCHICAL_SOFTMAX ? huffmanTree(counts) : undefined;
    this.sigmoid = SIGMOID_TABLE;
  }

  /**
   * The `k` most probable labels of `text` (k ≤ 0: all), best first, with probability at least
   * `threshold`: what fastText's `predict(line, k, threshold)` returns for the text given as one
   * line (its line breaks are word separators, as when a pipeline joins the lines with spaces),
   * lone surrogates made U+FFFD as UTF-8 makes them.
   */
  predict(text: string, k = 1, threshold = 0): FastTextPrediction[] {
    const rows = this.lineRows((text as unknown as { toWellFormed(): string }).toWellFormed());
    if (rows.length === 0) return [];
    const hidden = this.averageRows(rows);
    const heap = new KBestHeap(k <= 0 ? this.osz : k);
    if (this.tree) this.dfs(heap, hidden, 2 * this.osz - 2, 0, stdLog(threshold));
    else {
      const output = this.loss === LOSS_SOFTMAX ? this.softmax(hidden) : this.logistic(hidden);
      for (let i = 0; i < this.osz; i++) {
        const p = output[i]!;
        if (p < threshold) continue;
        const score = stdLog(p);
        if (heap.full && score < heap.lowest) continue;
        heap.push(score, i);
      }
    }
    return heap.sorted().map(({ score, index }) => ({ label: this.labels[index]!, probability: expf(score) }));
  }

  /** `Dictionary::getLine` for one line: the input rows of its words, their subwords and word n-grams. */
  private lineRows(text: string): number[] {
    const rows: number[] = [];
    const hashes: number[] = [];
    let start = -1;
    for (let i = 0; i <= text.length; i++) {
      const code = i < text.length ? text.charCodeAt(i) : 0x20;
      if (!isSeparator(code)) {
        if (start < 0) start = i;
        continue;
      }
      if (start < 0) continue;
      const token = text.slice(start, i);
      start = -1;
      if (token === EOS) break;
      this.addToken(token, rows, hashes);
    }
    this.addToken(EOS, rows, hashes);
    this.addWordNgrams(rows, hashes);
    return rows;
  }

  private addToken(token: string, rows: number[], hashes: number[]): void {
    if (this.labelTokens.has(token)) return;
    const id = this.words.get(token);
    // `Dictionary::getType`: an unknown token that starts like a label is neither word nor label.
    if (id === undefined && token.startsWith(LABEL_PREFIX)) return;
    const bytes = this.encoder.encode(token);
    hashes.push(fastTextHash(bytes));
    const own = id === undefined ? this.unknownWordRows(token, bytes) : this.knownWordRows(id, token, bytes);
    for (const r of own) rows.push(r);
  }

  /** `Dictionary::initNgrams`: the word's own row, then its character n-grams' (none for `</s>`). */
  private knownWordRows(id: number, token: string, bytes: Uint8Array): Int32Array {
    let rows = this.wordRows.get(id);
    if (rows === undefined) {
      const out = [id];
      if (this.maxn > 0 && token !== EOS) this.subwordRows(bytes, out);
      rows = Int32Array.from(out);
      this.wordRows.set(id, rows);
    }
    return rows;
  }

  /** `Dictionary::addSubwords` for a word outside the dictionary: its character n-grams only. */
  private unknownWordRows(token: string, bytes: Uint8Array): Int32Array {
    let rows = this.unknownRows.get(token);
    if (rows === undefined) {
      const out: number[] = [];
      if (token !== EOS) this.subwordRows(bytes, out);
      rows = Int32Array.from(out);
      if (this.unknownRows.size >= UNKNOWN_WORDS_KEPT) this.unknownRows.clear();
      this.unknownRows.set(token, rows);
    }
    return rows;
  }

  /** `Dictionary::computeSubwords` of `<word>`: n-grams of minn..maxn characters (not a lone boundary), hashed into buckets. */
  private subwordRows(wordBytes: Uint8Array, out: number[]): void {
    const word = new Uint8Array(wordBytes.length + 2);
    word[0] = 0x3c; // <
    word.set(wordBytes, 1);
    word[word.length - 1] = 0x3e; // >
    const { minn, maxn } = this;
    const len = word.length;
    for (let i = 0; i < len; i++) {
      if ((word[i]! & 0xc0) === 0x80) continue;
      let h = 2166136261 | 0;
      for (let j = i, n = 1; j < len && n <= maxn; n++) {
        h = Math.imul(h ^ signExtend(word[j++]!), 16777619);
        while (j < len && (word[j]! & 0xc0) === 0x80) h = Math.imul(h ^ signExtend(word[j++]!), 16777619);
        if (n >= minn && !(n === 1 && (i === 0 || j === len))) this.pushBucket(out, (h >>> 0) % this.bucket);
      }
    }
  }

  /** `Dictionary::addWordNgrams`: hashes of 2..wordNgrams consecutive words, in uint64 arithmetic from the int32 word hashes. */
  private addWordNgrams(rows: number[], hashes: number[]): void {
    for (let i = 0; i < hashes.length; i++) {
      let h = BigInt.asUintN(64, BigInt(hashes[i]!));
      for (let j = i + 1; j < hashes.length && j < i + this.wordNgrams; j++) {
        h = BigInt.asUintN(64, h * WORD_NGRAM_MULTIPLIER + BigInt.asUintN(64, BigInt(hashes[j]!)));
        this.pushBucket(rows, Number(h % this.bigBucket));
      }
    }
  }

  /** `Dictionary::pushHash`: a bucket's row past the words, through the pruning index of a quantised model. */
  private pushBucket(out: number[], bucket: number): void {
    const row = this.pruned === undefined ? bucket : this.pruned.row(bucket);
    if (row >= 0) out.push(this.nwords + row);
  }

  /** `averageRowsToVector`: float32 sums in order, then times float32(1 / count). */
  private averageRows(rows: readonly number[]): Float32Array {
    const { dim, input } = this;
    const hidden = new Float32Array(dim);
    for (const r of rows) {
      const base = r * dim;
      for (let j = 0; j < dim; j++) hidden[j] = hidden[j]! + input[base + j]!;
    }
    const scale = Math.fround(1 / rows.length);
    for (let j = 0; j < dim; j++) hidden[j] = hidden[j]! * scale;
    return hidden;
  }

  /** `DenseMatrix::dotRow`: a float32 sum of float32 products. */
  private dotRow(hidden: Float32Array, row: number): number {
    const { dim, output } = this;
    const base = row * dim;
    let d = 0;
    for (let j = 0; j < dim; j++) d = Math.fround(d + Math.fround(output[base + j]! * hidden[j]!));
    return d;
  }

  /** `SoftmaxLoss::computeOutput`. */
  private softmax(hidden: Float32Array): Float32Array {
    const out = new Float32Array(this.osz);
    for (let i = 0; i < this.osz; i++) out[i] = this.dotRow(hidden, i);
    let max = out[0]!;
    for (let i = 0; i < this.osz; i++) max = Math.max(out[i]!, max);
    let z = 0;
    for (let i = 0; i < this.osz; i++) {
      out[i] = expf(Math.fround(out[i]! - max));
      z = Math.fround(z + out[i]!);
    }
    for (let i = 0; i < this.osz; i++) out[i] = out[i]! / z;
    return out;
  }

  /** `BinaryLogisticLoss::computeOutput` (one-vs-all, negative sampling): the table sigmoid of each output. */
  private logistic(hidden: Float32Array): Float32Array {
    const out = new Float32Array(this.osz);
    for (let i = 0; i < this.osz; i++) out[i] = tableSigmoid(this.sigmoid, this.dotRow(hidden, i));
    return out;
  }

  /** `HierarchicalSoftmaxLoss::dfs`. */
  private dfs(heap: KBestHeap, hidden: Float32Array, node: number, score: number, logThreshold: number): void {
    if (score < logThreshold) return;
    if (heap.full && score < heap.lowest) return;
    const tree = this.tree;
    if (tree === undefined) return;
    if (node < this.osz) {
      heap.push(score, node);
      return;
    }
    let f = this.dotRow(hidden, node - this.osz);
    f = Math.fround(1 / Math.fround(1 + expf(-f)));
    this.dfs(heap, hidden, tree.left[node]!, Math.fround(score + stdLog(Math.fround(1 - f))), logThreshold);
    this.dfs(heap, hidden, tree.right[node]!, Math.fround(score + stdLog(f)), logThreshold);
  }
}

function signExtend(byte: number): number {
  return byte >= 0x80 ? byte | 0xffffff00 : byte;
}

/** `Loss::Loss`: 513 values of 1 / (1 + e^−x) for x = i · 16 / 512 − 8, x in float32 and the quotient in double. */
const SIGMOID_TABLE: Float32Array = Float32Array.from({ length: 513 }, (_, i) => {
  const x = Math.fround(Math.fround(i * 16) / 512 - 8);
  return 1 / (1 + expf(-x));
});

/** `Loss::sigmoid`: the table entry at int64((x + 8) · 512 / 8 / 2), in float32; 0 and 1 outside [−8, 8]. */
function tableSigmoid(table: Float32Array, x: number): number {
  if (x < -8) return 0;
  if (x > 8) return 1;
  const i = Math.trunc(Math.fround(Math.fround(Math.fround(Math.fround(x + 8) * 512) / 8) / 2));
  return table[i]!;
}

