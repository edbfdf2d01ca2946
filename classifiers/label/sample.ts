/**
 * Seeded sampling of documents to label, optionally stratified. Each document gets a key from a
 * hash of (seed, id); the sample is the n documents with the smallest keys (bottom-k), so it
 * does not depend on input order, streams in bounded memory, and grows stably with n (the
 * sample for n = 1,000 is inside the sample for n = 5,000, which makes resumed runs cheap).
 * Stratified: every stratum (e.g. `meta.source`) gets an equal share, and a stratum with fewer
 * documents than its share hands the rest to the others.
 */
import { createHash } from 'node:crypto';
import type { Doc } from '../../pipeline/doc.ts';

export function sampleKey(seed: number, id: string): number {
  const h = createHash('sha1').update(`${seed}\0${id}`).digest();
  return h.readUIntBE(0, 6); // 48 bits: ties are vanishingly rare and broken by id
}

interface Keyed {
  key: number;
  doc: Doc;
}

function before(a: Keyed, b: Keyed): boolean {
  return a.key < b.key || (a.key === b.key && a.doc.id < b.doc.id);
}

/** Keeps the k smallest keys: a max-heap whose root is the largest kept. */
class BottomK {
  readonly heap: Keyed[] = [];
  seen = 0;
  constructor(readonly k: number) {}

  offer(item: Keyed): void {
    this.seen++;
    const h = this.heap;
    if (h.length < this.k) {
      h.push(item);
      let i = h.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!before(h[p]!, h[i]!)) break;
        [h[p], h[i]] = [h[i]!, h[p]!];
        i = p;
      }
      return;
    }
    if (this.k === 0 || !before(item, h[0]!)) return;
    h[0] = item;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && before(h[m]!, h[l]!)) m = l;
      if (r < h.length && before(h[m]!, h[r]!)) m = r;
      if (m === i) break;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }

  sorted(): Keyed[] {
    return [...this.heap].sort((a, b) => (before(a, b) ? -1 : 1));
  }
}

export class DocSampler {
  private readonly strata = new Map<string, BottomK>();

  /**
   * @param n documents wanted
   * @param stratifyBy meta key whose value names the stratum (e.g. "source", "language"); unset = one stratum
   * @param prepare applied to a document when it enters the sample (e.g. cut its text), to bound memory
   */
  constructor(
    readonly n: number,
    readonly seed: number,
    readonly stratifyBy?: string,
    private readonly prepare: (doc: Doc) => Doc = (d) => d,
  ) {}

  offer(doc: Doc): void {
    const stratum = this.stratifyBy === undefined ? '' : String(doc.meta[this.stratifyBy] ?? '(none)');
    let s = this.strata.get(stratum);
    if (!s) this.strata.set(stratum, (s = new BottomK(this.n)));
    const key = sampleKey(this.seed, doc.id);
    if (s.heap.length < s.k || before({ key, doc }, s.heap[0]!)) s.offer({ key, doc: this.prepare(doc) });
    else s.seen++;
  }

  /** Documents seen per stratum. */
  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, s] of [...this.strata].sort((a, b) => (a[0] < b[0] ? -1 : 1))) out[name] = s.seen;
    return out;
  }

  /** The sample, in key order (a deterministic shuffle). */
  result(): Doc[] {
    const names = [...this.strata.keys()].sort();
    const quota = equalShares(this.n, names.map((name) => this.strata.get(name)!.heap.length));
    const chosen: Keyed[] = [];
    names.forEach((name, i) => chosen.push(...this.strata.get(name)!.sorted().slice(0, quota[i])));
    return chosen.sort((a, b) => (before(a, b) ? -1 : 1)).map((c) => c.doc);
  }
}

/**
 * Equal shares of `n` over strata holding `avail` documents each (water-filling: the spare
 * capacity of small strata goes to the rest).
 */
export function equalShares(n: number, avail: readonly number[]): number[] {
  const quota = avail.map(() => 0);
  let left = Math.min(n, avail.reduce((a, b) => a + b, 0));
  while (left > 0) {
    const open = avail.map((_, i) => i).filter((i) => quota[i]! < avail[i]!);
    const share = Math.max(1, Math.floor(left / open.length));
    for (const i of open) {
      if (left === 0) break;
      const take = Math.min(share, avail[i]! - quota[i]!, left);
      quota[i]! += take;
      left -= take;
    }
  }
  return quota;
}
