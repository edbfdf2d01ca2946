/**
 * Packs documents (each BOS ... EOS) end to end into rows of exactly `seqLen` tokens, the way
 * pretraining consumes them; a document longer than the room left continues in the next row.
 * Each row records where its document segments start (`offsets`, first always 0) so a trainer
 * can mask attention across documents. The tail that does not fill a last row is dropped and
 * counted (`remainderTokens`): padding it would train on pad tokens, carrying it over would tie
 * one input shard's output to the next and make the result depend on how work is split.
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
      if (this.fill === this.seqLen) {
        done.push({ tokens: this.row, offsets: Int32Array.from(this.offsets), docIds: this.docIds });
        this.row = new Int32Array(this.seqLen);
        this.fill = 0;
        this.offsets = [];
        this.docIds = [];
      }
    }
    return done;
  }

  /** Tokens waiting for a row that will not be filled (dropped when the input ends). */
  get remainderTokens(): number {
    return this.fill;
  }
}
