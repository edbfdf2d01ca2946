/** Figures written to `meta` keep 4 decimals: enough to re-threshold, short enough to read. */
export function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
