/**
 * fastText's pruning index (`Dictionary::pruneidx_`, bucket → input row) as a bitmap of the kept
 * buckets with a rank directory: lid.176 keeps 42,765 of 2,000,000 buckets, and this holds them in
 * about 0.7 MB where an array over all buckets takes 8 MB, looked up once per character n-gram.
 */
export class BucketIndex {
  private readonly bits: Uint32Array;
  /** Per 32-bucket word: how many kept buckets come before it. */
  private readonly before: Int32Array;
  /** Input row of each kept bucket, in bucket order. */
  private readonly rowOfRank: Int32Array;

  constructor(buckets: number, keptBuckets: Int32Array, rows: Int32Array) {
    this.bits = new Uint32Array((buckets + 31) >>> 5);
    for (const b of keptBuckets) this.bits[b >>> 5]! |= 1 << (b & 31);
    this.before = new Int32Array(this.bits.length);
    let total = 0;
    for (let w = 0; w < this.bits.length; w++) {
      this.before[w] = total;
      total += popcount(this.bits[w]!);
    }
    this.rowOfRank = new Int32Array(total);
    keptBuckets.forEach((b, i) => (this.rowOfRank[this.rank(b)] = rows[i]!));
  }

  private rank(bucket: number): number {
    const w = bucket >>> 5;
    return this.before[w]! + popcount(this.bits[w]! & ((1 << (bucket & 31)) - 1));
  }

  /** The input row of `bucket` (0 ≤ bucket < buckets), or -1 when it was pruned away. */
  row(bucket: number): number {
    return (this.bits[bucket >>> 5]! & (1 << (bucket & 31))) === 0 ? -1 : this.rowOfRank[this.rank(bucket)]!;
  }
}

function popcount(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}
