/** How the mix commands and the report print shares and token counts. */

export function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

const compactTokens = new Intl.NumberFormat('en', { notation: 'compact', maximumSignificantDigits: 3 });

/** A token count in three significant digits: `1.5B`, `123K`, `1M` (for 999,999). */
export function formatTokens(n: number): string {
  return compactTokens.format(n);
}
