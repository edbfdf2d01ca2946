/**
 * Quality bands: a score's band among ascending cut points. Its own module so that what reads bands
 * (the mix buckets) loads no model runtime.
 */

/** The band of a score: names[i] for the i-th interval of the ascending cut points (a cut belongs to the band above). */
export function bandOf(score: number, cuts: readonly number[], names: readonly string[]): string {
  let i = 0;
  while (i < cuts.length && score >= cuts[i]!) i++;
  const name = names[i];
  if (name === undefined) throw new RangeError(`${cuts.length} cut points need ${cuts.length + 1} band names, got ${names.length}`);
  return name;
}
