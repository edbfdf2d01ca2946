/**
 * US Social Security numbers written as SSNs are written, `123-45-6789` (or with spaces): nine
 * bare digits are as likely an order number as an SSN. Numbers the Social Security
 * Administration never issues are not matched: area 000, 666 or 900–999, group 00, serial 0000
 * (SSA, "Social Security Number Randomization", 2011).
 */
import { standsAlone } from './boundary.ts';
import type { PiiSpan } from './types.ts';

const SSN = /(\d{3})([- ])(\d{2})\2(\d{4})/g;

export function findUsSsns(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  for (const m of text.matchAll(SSN)) {
    const start = m.index;
    const end = start + m[0].length;
    if (!standsAlone(text, start, end)) continue;
    const area = Number(m[1]);
    if (area === 0 || area === 666 || area >= 900 || m[3] === '00' || m[4] === '0000') continue;
    out.push({ type: 'US_SSN', start, end });
  }
  return out;
}
