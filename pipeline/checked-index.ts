/**
 * A checked read of an array element, for an index that depends on input (a file's records, a
 * query's columns): the element, or a RangeError naming the index and the length. Where the index
 * is valid by construction (a loop bound, a table's size), a `!` says so instead.
 */
export function at<T>(items: ArrayLike<T>, i: number): T {
  if (!(i >= 0 && i < items.length)) throw new RangeError(`index ${i} outside 0..${items.length - 1}`);
  return items[i] as T;
}
