/**
 * International Bank Account Numbers (ISO 13616): a country code, two check digits and the
 * account, together or in groups of four. A candidate must have its country's exact length
 * (the SWIFT IBAN Registry) and pass the ISO 7064 MOD 97-10 check, which catches any single
 * mistyped character, so a code-and-digits token that merely looks like an IBAN rarely passes.
 */
import { isAsciiLetterCode, isDigitCode, standsAlone } from './boundary.ts';
import type { PiiSpan } from './types.ts';

/** IBAN length by country, from the SWIFT IBAN Registry. */
const LENGTH: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29, BY: 28,
  CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18,
  FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HN: 28, HR: 21, HU: 28,
  IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20,
  LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20, MR: 27, MT: 31, MU: 30, NI: 28,
  NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29, RO: 24, RS: 22, SA: 24, SC: 31, SE: 24,
  SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

const START = /[A-Z]{2}\d{2}/g;

/** ISO 7064 MOD 97-10 over the IBAN moved to `BBAN + country + check`, letters as 10..35. */
export function ibanChecksumValid(iban: string): boolean {
  const moved = iban.slice(4) + iban.slice(0, 4);
  let rest = 0;
  for (let i = 0; i < moved.length; i++) {
    const c = moved.charCodeAt(i);
    const v = isDigitCode(c) ? c - 48 : c - 55;
    rest = v < 10 ? (rest * 10 + v) % 97 : (rest * 100 + v) % 97;
  }
  return rest === 1;
}

export function findIbans(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  for (const m of text.matchAll(START)) {
    const start = m.index;
    const length = LENGTH[m[0].slice(0, 2)];
    if (length === undefined) continue;
    const end = ibanEnd(text, start, length);
    if (end === -1 || !standsAlone(text, start, end)) continue;
    const compact = text.slice(start, end).replace(/ /g, '');
    if (ibanChecksumValid(compact)) out.push({ type: 'IBAN', start, end });
  }
  return out;
}

/** Where `length` IBAN characters starting at `start` end: all together, or a space after every fourth. */
function ibanEnd(text: string, start: number, length: number): number {
  for (const grouped of [false, true]) {
    let i = start;
    let taken = 0;
    while (taken < length && i < text.length) {
      if (grouped && taken > 0 && taken % 4 === 0) {
        if (text.charCodeAt(i) !== 32) break;
        i++;
      }
      const c = text.charCodeAt(i);
      if (!isDigitCode(c) && !(isAsciiLetterCode(c) && c <= 90)) break;
      taken++;
      i++;
    }
    if (taken === length) return i;
  }
  return -1;
}
