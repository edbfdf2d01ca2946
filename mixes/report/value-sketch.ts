/**
 * A mergeable summary of a measurement's values over a run, whatever its size: per value rounded
 * to three significant digits, how many documents of each class (e.g. kept, rejected by this
 * rule, rejected by another) had it, with the exact count, minimum and maximum. Parts from many
 * tasks add up to the same summary in any order, and the summary's size is bounded by the values'
 * spread (at most 900 keys per power of ten), not by the number of documents.
 */

/** Values rounded to this many significant digits before they are counted. */
export const SKETCH_DIGITS = 3;

export interface ValueSketch {
  /** Documents per class. */
  counts: number[];
  min: number;
  max: number;
  /** Every value an integer (counts of words, lines ...): bins of whole units. */
  integral: boolean;
  /** [rounded value, documents of class 0, class 1, ...], by value. */
  values: [number, ...number[]][];
}

/** Builds a sketch document by document. */
export class SketchBuilder {
  private readonly byValue = new Map<number, number[]>();
  private readonly counts: number[];
  private min = Infinity;
  private max = -Infinity;
  private integral = true;

  constructor(private readonly classes: number) {
    this.counts = new Array<number>(classes).fill(0);
  }

  add(value: number, cls: number): void {
    // Whole numbers under 1,000 are their own rounding (most counts: words, lines, sentences).
    const key = Number.isInteger(value) && value > -1000 && value < 1000 ? value : Number(value.toPrecision(SKETCH_DIGITS));
    let c = this.byValue.get(key);
    if (!c) this.byValue.set(key, (c = new Array<number>(this.classes).fill(0)));
    c[cls] = (c[cls] ?? 0) + 1;
    this.counts[cls] = (this.counts[cls] ?? 0) + 1;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    if (this.integral && !Number.isInteger(value)) this.integral = false;
  }

  get empty(): boolean {
    return this.byValue.size === 0;
  }

  sketch(): ValueSketch {
    const values = [...this.byValue.entries()].sort((a, b) => a[0] - b[0]).map(([v, c]) => [v, ...c] as [number, ...number[]]);
    return { counts: [...this.counts], min: this.min, max: this.max, integral: this.integral, values };
  }
}

/** Two sketches as one (the same in either order). */
export function mergeSketches(a: ValueSketch, b: ValueSketch): ValueSketch {
  const byValue = new Map<number, number[]>();
  for (const [v, ...c] of [...a.values, ...b.values]) {
    const have = byValue.get(v);
    if (have) c.forEach((x, i) => (have[i] = (have[i] ?? 0) + x));
    else byValue.set(v, [...c]);
  }
  return {
    counts: a.counts.map((x, i) => x + (b.counts[i] ?? 0)),
    min: Math.min(a.min, b.min),
    max: Math.max(a.max, b.max),
    integral: a.integral && b.integral,
    values: [...byValue.entries()].sort((x, y) => x[0] - y[0]).map(([v, c]) => [v, ...c] as [number, ...number[]]),
  };
}

/** Documents of every class. */
export function sketchTotal(s: ValueSketch): number {
  return s.counts.reduce((a, b) => a + b, 0);
}

/** The rounded value below which a share `q` of the documents lie (the value at rank floor(q · (n − 1))). */
export function sketchQuantile(s: ValueSketch, q: number): number {
  const total = sketchTotal(s);
  const rank = Math.min(total - 1, Math.floor(q * (total - 1)));
  let seen = 0;
  for (const [v, ...c] of s.values) {
    seen += c.reduce((a, b) => a + b, 0);
    if (seen > rank) return v;
  }
  return s.max;
}
