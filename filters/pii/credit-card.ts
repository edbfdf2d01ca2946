/**
 * Payment card numbers: 13 to 19 digits, together or in the groups cards print (4-4-4-4[-n],
 * 4-6-5, 4-6-4), whose first digits belong to a card network that issues that length (the
 * networks' published IIN ranges) and whose last digit is the Luhn check digit (ISO/IEC 7812-1).
 * The range check matters: a run of random digits passes Luhn whenever its last digit happens
 * to be the right one.
 */
import { digitsOf, standsAlone } from './boundary.ts';
import type { PiiSpan } from './types.ts';

const CARD = /\d{4}([ -])\d{4}\1\d{4}\1\d{4}(?:\1\d{1,3})?|\d{4}([ -])\d{6}\2\d{4,5}|\d{13,19}/g;

/** ISO/IEC 7812-1 Annex B: double every second digit from the right; the sum is a multiple of 10. */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = digits.length - 1, double = false; i >= 0; i--, double = !double) {
    let d = digits.charCodeAt(i) - 48;
    if (double && (d *= 2) > 9) d -= 9;
    sum += d;
  }
  return sum % 10 === 0;
}

/** [first prefix, last prefix (same number of digits), shortest, longest]: Visa, Mastercard, Amex, Discover, Diners, JCB, UnionPay. */
const NETWORKS: readonly [number, number, number, number][] = [
  [4, 4, 13, 19],
  [51, 55, 16, 16],
  [2221, 2720, 16, 16],
  [34, 34, 15, 15],
  [37, 37, 15, 15],
  [6011, 6011, 16, 19],
  [644, 649, 16, 19],
  [65, 65, 16, 19],
  [300, 305, 14, 19],
  [36, 36, 14, 19],
  [38, 39, 14, 19],
  [3528, 3589, 16, 19],
  [62, 62, 16, 19],
];

export function issuedByANetwork(digits: string): boolean {
  return NETWORKS.some(([lo, hi, min, max]) => {
    if (digits.length < min || digits.length > max) return false;
    const prefix = Number(digits.slice(0, String(lo).length));
    return prefix >= lo && prefix <= hi;
  });
}

export function findCreditCards(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  const re = new RegExp(CARD.source, 'g');
  for (let m = re.exec(text); m !== null; m = re.exec(text)) {
    const start = m.index;
    const end = start + m[0].length;
    const digits = digitsOf(m[0]);
    if (standsAlone(text, start, end) && issuedByANetwork(digits) && luhnValid(digits)) {
      out.push({ type: 'CREDIT_CARD', start, end });
    } else {
      // `0123 4111 1111 1111 1111` matched one group early: try again from the next digit group.
      const nextGroup = m[0].search(/[ -]/);
      if (nextGroup > 0) re.lastIndex = start + nextGroup + 1;
    }
  }
  return out;
}
