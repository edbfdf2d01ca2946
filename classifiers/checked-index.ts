/** A checked read of an array element: the element, or a RangeError naming the index (an index past the end is a bug, not a value). */
export function at<T>(items: ArrayLike<T>, i: number): T {
  if (!(i >= 0 && i < items.length)) throw new RangeError(`index ${i} outside 0..${items.length - 1}`);
  return items[i] as T;
}
