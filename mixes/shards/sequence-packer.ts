/**
 * Packs documents (each BOS ... EOS) end to end into rows of exactly `seqLen` tokens, the way
 * pretraining consumes them; a document longer than the room left continues in the next row.
 * Each row records where its document segments start (`offsets`, first always 0) so a trainer
 * can mask attention across documents. The tail that does not fill a last row is returned by
 * `finish` as one shorter, partial row: no document is lost. It is not carried over to the next
 * input shard, which would make the output depend on how work is split.
 */
import type { PackedRow } from './token-rows.ts';

export class SequencePacker {
  private row: Int32Array;
  private fill = 0;
  private offsets: number[] = [];
  private docIds: string[] = [];

  constructor(readonly seqLen: number) {
    if (!Number.isInteger(seqLen) || seqLen < 2) throw new RangeError(`seq_len must be an integer >= 2, got ${seqLen}`);
    this.row = new Int32Array(seqLen);
  }

  /** Adds one document; returns the rows it completed (possibly none). */
  push(docId: string, tokens: Int32Array): PackedRow[] {
    const done: PackedRow[] = [];
    let at = 0;
    let newSegment = true;
    while (at < tokens.length) {
      if (newSegment || this.fill === 0) {
        this.offsets.push(this.fill);
        this.docIds.push(docId);
        newSegment = false;
      }
      const n = Math.min(this.seqLen - this.fill, tokens.length - at);
      this.row.set(tokens.subarray(at, at + n), this.fill);
      this.fill += n;
      at += n;
      if (this.fill === this.seqLen) done.push(this.take());
    }
    return done;
  }

  /** The unfilled last row (fewer than `seqLen` tokens), or null when the input filled whole rows. */
  finish(): PackedRow | null {
    return this.fill === 0 ? null : this.take();
  }

  private take(): PackedRow {
    const row: PackedRow = { tokens: this.row.subarray(0, this.fill), offsets: Int32Array.from(this.offsets), docIds: this.docIds };
    this.row = new Int32Array(this.seqLen);
    this.fill = 0;
    this.offsets = [];
    this.docIds = [];
    return row;
  }
}
