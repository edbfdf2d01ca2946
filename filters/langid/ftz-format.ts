/**
 * Reader for the fastText model file (`.bin`, and `.ftz` for a quantised one): a supervised model
 * with a dense or product-quantised input matrix (lid.176.ftz's is quantised) and a dense output
 * matrix. The layout is fastText's own save order (facebookresearch/fastText: `FastText::loadModel`
 * in src/fasttext.cc, `Args::load`, `Dictionary::load`, `QuantMatrix::load`,
 * `ProductQuantizer::load`, `DenseMatrix::load`); every number is little-endian.
 */

const FASTTEXT_MAGIC = 793712314;
const FASTTEXT_VERSION = 12;
/** `ProductQuantizer::ksub_`: 8-bit codes, 256 centroids per sub-quantiser. */
const KSUB = 256;

/** `loss_name` in src/args.h. */
export const LOSS_HIERARCHICAL_SOFTMAX = 1;
/** `model_name::sup` in src/args.h. */
const MODEL_SUPERVISED = 3;

export interface FtzArgs {
  dim: number;
  wordNgrams: number;
  loss: number;
  bucket: number;
  minn: number;
  maxn: number;
}

export interface FtzEntry {
  /** The word's bytes as saved (UTF-8 for any model trained on UTF-8 text). */
  bytes: Uint8Array;
  count: number;
  isLabel: boolean;
}

export interface FtzModel {
  args: FtzArgs;
  /** Words first (`nwords`), then labels, in the file's order. */
  entries: FtzEntry[];
  nwords: number;
  nlabels: number;
  /**
   * The pruning index (`Dictionary::pruneidx_`): the buckets kept, each with its input row past the
   * words; undefined when the model was not pruned (every bucket has its own row).
   */
  pruned: { buckets: Int32Array; rows: Int32Array } | undefined;
  /**
   * The input matrix decoded to dense rows of `dim` floats, each already multiplied by its row's
   * quantised norm the way `ProductQuantizer::addcode` does (float32 `alpha * c`), so adding a row
   * here adds the very floats fastText adds.
   */
  input: Float32Array;
  inputRows: number;
  /** The output matrix, `output.length / dim` rows of `dim` floats. */
  output: Float32Array;
}

export class FtzFormatError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'FtzFormatError';
  }
}

/** A product quantiser as `ProductQuantizer::load` reads it. */
interface ProductQuantizer {
  dim: number;
  nsubq: number;
  dsub: number;
  lastdsub: number;
  centroids: Float32Array;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

class Reader {
  private offset = 0;
  private readonly view: DataView;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly file: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private need(n: number): number {
    const at = this.offset;
    if (at + n > this.bytes.length) throw new FtzFormatError(this.file, `truncated at byte ${at}`);
    this.offset += n;
    return at;
  }
  int32(): number {
    return this.view.getInt32(this.need(4), true);
  }
  int64(): number {
    return Number(this.view.getBigInt64(this.need(8), true));
  }
  float64(): number {
    return this.view.getFloat64(this.need(8), true);
  }
  byte(): number {
    return this.bytes[this.need(1)]!;
  }
  bytesOf(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.subarray(at, at + n);
  }
  /** A NUL-terminated string's bytes, without the NUL. */
  cString(): Uint8Array {
    const end = this.bytes.indexOf(0, this.offset);
    if (end < 0) throw new FtzFormatError(this.file, `unterminated word at byte ${this.offset}`);
    const at = this.need(end - this.offset + 1);
    return this.bytes.subarray(at, end);
  }
  float32s(n: number): Float32Array {
    const at = this.need(4 * n);
    // A copy: the file's floats need not be 4-byte aligned in its buffer.
    const out = new Float32Array(n);
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(this.bytes.subarray(at, at + 4 * n));
    else for (let i = 0; i < n; i++) out[i] = this.view.getFloat32(at + 4 * i, true);
    return out;
  }
  get atEnd(): boolean {
    return this.offset === this.bytes.length;
  }
}

function readArgs(r: Reader, file: string): FtzArgs {
  const dim = r.int32();
  r.int32(); // ws
  r.int32(); // epoch
  r.int32(); // minCount
  r.int32(); // neg
  const wordNgrams = r.int32();
  const loss = r.int32();
  const model = r.int32();
  const bucket = r.int32();
  const minn = r.int32();
  const maxn = r.int32();
  r.int32(); // lrUpdateRate
  r.float64(); // t
  if (model !== MODEL_SUPERVISED) throw new FtzFormatError(file, 'not a supervised (classifier) model');
  return { dim, wordNgrams, loss, bucket, minn, maxn };
}

function readQuantizer(r: Reader): ProductQuantizer {
  const dim = r.int32();
  const nsubq = r.int32();
  const dsub = r.int32();
  const lastdsub = r.int32();
  return { dim, nsubq, dsub, lastdsub, centroids: r.float32s(dim * KSUB) };
}

/** `ProductQuantizer::get_centroids`: the offset of centroid `code` of sub-quantiser `m`. */
function centroidAt(pq: ProductQuantizer, m: number, code: number): number {
  return m === pq.nsubq - 1 ? m * KSUB * pq.dsub + code * pq.lastdsub : (m * KSUB + code) * pq.dsub;
}

export function readFtz(bytes: Uint8Array, file: string): FtzModel {
  const r = new Reader(bytes, file);
  if (r.int32() !== FASTTEXT_MAGIC) throw new FtzFormatError(file, 'not a fastText model (magic number)');
  const version = r.int32();
  if (version !== FASTTEXT_VERSION) throw new FtzFormatError(file, `fastText model version ${version}, expected ${FASTTEXT_VERSION}`);
  const args = readArgs(r, file);

  const size = r.int32();
  const nwords = r.int32();
  const nlabels = r.int32();
  r.int64(); // ntokens
  const pruneSize = r.int64();
  const entries: FtzEntry[] = [];
  for (let i = 0; i < size; i++) {
    const word = r.cString();
    const count = r.int64();
    entries.push({ bytes: word, count, isLabel: r.byte() === 1 });
  }
  let pruned: FtzModel['pruned'];
  if (pruneSize >= 0) {
    pruned = { buckets: new Int32Array(pruneSize), rows: new Int32Array(pruneSize) };
    for (let i = 0; i < pruneSize; i++) {
      pruned.buckets[i] = r.int32();
      pruned.rows[i] = r.int32();
      if (pruned.buckets[i]! < 0 || pruned.buckets[i]! >= args.bucket) throw new FtzFormatError(file, `pruned bucket ${pruned.buckets[i]} out of range`);
    }
  }

  const { input, rows: inputRows } = r.byte() === 1 ? readQuantisedInput(r, args, file) : readDenseInput(r, args, file);

  if (r.byte() !== 0) throw new FtzFormatError(file, 'the output matrix is quantised (not read here)');
  const outRows = r.int64();
  const outDim = r.int64();
  if (outDim !== args.dim) throw new FtzFormatError(file, 'output matrix width differs from the model dimension');
  const output = r.float32s(outRows * outDim);
  if (!r.atEnd) throw new FtzFormatError(file, 'bytes after the output matrix');
  return { args, entries, nwords, nlabels, pruned, input, inputRows, output };
}

/** `DenseMatrix::load`: rows × dim floats, as trained (a `.bin` file). */
function readDenseInput(r: Reader, args: FtzArgs, file: string): { input: Float32Array; rows: number } {
  const rows = r.int64();
  const dim = r.int64();
  if (dim !== args.dim) throw new FtzFormatError(file, 'input matrix width differs from the model dimension');
  return { input: r.float32s(rows * dim), rows };
}

/** `QuantMatrix::load` (a `.ftz` file), decoded to dense rows. */
function readQuantisedInput(r: Reader, args: FtzArgs, file: string): { input: Float32Array; rows: number } {
  const qnorm = r.byte() === 1;
  const rows = r.int64();
  const dim = r.int64();
  const codes = r.bytesOf(r.int32());
  const pq = readQuantizer(r);
  let norms: Float32Array | undefined;
  if (qnorm) {
    const normCodes = r.bytesOf(rows);
    const npq = readQuantizer(r);
    norms = new Float32Array(rows);
    for (let i = 0; i < rows; i++) norms[i] = npq.centroids[centroidAt(npq, 0, normCodes[i]!)]!;
  }
  if (dim !== args.dim || pq.dim !== dim) throw new FtzFormatError(file, 'input matrix width differs from the model dimension');

  // `QuantMatrix::addRowToVector` → `ProductQuantizer::addcode(x, codes, row, norm)`:
  // x[m * dsub + n] += norm * c[n], the product rounded to float32 before the sum.
  const input = new Float32Array(rows * dim);
  for (let row = 0; row < rows; row++) {
    const alpha = norms === undefined ? 1 : norms[row]!;
    for (let m = 0; m < pq.nsubq; m++) {
      const c = centroidAt(pq, m, codes[row * pq.nsubq + m]!);
      const d = m === pq.nsubq - 1 ? pq.lastdsub : pq.dsub;
      for (let n = 0; n < d; n++) input[row * dim + m * pq.dsub + n] = Math.fround(alpha * pq.centroids[c + n]!);
    }
  }
  return { input, rows };
}
