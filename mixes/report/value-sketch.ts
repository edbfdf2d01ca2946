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

/** Powers of ten by exponent, 10^0 to 10^22 (each exact as a double). */
const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/**
 * `value` to SKETCH_DIGITS significant digits, by arithmetic rather than through a string (the
 * tally rounds every measurement of every document). Whole numbers under 1,000 are their own.
 */
export function roundedValue(value: number): number {
  if ((Number.isInteger(value) && value > -1000 && value < 1000) || value === 0 || !Number.isFinite(value)) return value;
  const k = SKETCH_DIGITS - 1 - Math.floor(Math.log10(Math.abs(value)));
  const scale = POW10[Math.abs(k)];
  if (scale === undefined) return Number(value.toPrecision(SKETCH_DIGITS));
  return k >= 0 ? Math.round(value * scale) / scale : Math.round(value / scale) * scale;
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
    const key = roundedValue(value);
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

/**
 * Adds `part` into `into` (which it changes, and returns): counts per rounded value added up by
 * one walk over both sorted lists, so merging a run's thousands of parts stays linear in their size.
 * The result is the same in either order.
 */
export function addSketch(into: ValueSketch, part: ValueSketch): ValueSketch {
  const a = into.values;
  const b = part.values;
  const values: ValueSketch['values'] = [];
  let i = 0;
  let j = 0;
  for (;;) {
    const x = a[i];
    const y = b[j];
    if (x === undefined && y === undefined) break;
    if (y === undefined || (x !== undefined && x[0] < y[0])) {
      if (x) values.push(x);
      i++;
    } else if (x === undefined || y[0] < x[0]) {
      values.push([...y]);
      j++;
    } else {
      for (let k = 1; k < y.length; k++) x[k] = (x[k] ?? 0) + (y[k] ?? 0);
      values.push(x);
      i++;
      j++;
    }
  }
  into.values = values;
  into.counts = into.counts.map((c, k) => c + (part.counts[k] ?? 0));
  into.min = Math.min(into.min, part.min);
  into.max = Math.max(into.max, part.max);
  into.integral &&= part.integral;
  return into;
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
