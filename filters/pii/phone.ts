/**
 * Phone numbers, validated by libphonenumber-js (Google's libphonenumber metadata, "max": each
 * region's full number patterns, so a number must be one the region can dial, not only of the
 * right length). Candidates are groups of digits and the separators phone numbers use, one
 * space or tab apart; from each group the longest run of groups that parses as a valid number
 * is taken. libphonenumber's own text matcher is not used: it takes a run of digit groups as one
 * candidate and finds nothing in `(212) 555-0123 4111 1111` (tests/pii.test.ts). A number must
 * be written as people write phone numbers, with a `+`, parentheses or separators: ten bare
 * digits are as likely an id. Dates are not numbers.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';
import { standsAlone } from './boundary.ts';
import type { PiiSpan } from './types.ts';

/** A group: an optional `+` or `(`, a digit, then digits and `().-/`. */
const GROUP = /[+(]?\d[\d().\-/]*/g;
/** Groups in one number: `+1 (212) 555 01 23` has five. */
const MAX_GROUPS = 6;
const MIN_DIGITS = 7;
const MAX_DIGITS = 15; // ITU-T E.164 §6.1
const DATE = /^\(?\d{1,4}[-./ ]\d{1,2}[-./ ]\d{1,4}\)?$/;
const TIME_AFTER = /^\s?:\d\d/;

interface Group {
  start: number;
  end: number;
  digits: number;
}

/** The groups of `text` that overlap none of `taken` (in text order, not overlapping). */
function groupsOf(text: string, taken: readonly PiiSpan[]): Group[] {
  const out: Group[] = [];
  let t = 0;
  for (const m of text.matchAll(GROUP)) {
    let end = m.index + m[0].length;
    while (end > m.index && !/[\d)]/.test(text[end - 1]!)) end--; // a sentence's `.` or `-` after the number
    while (t < taken.length && taken[t]!.end <= m.index) t++;
    if (t < taken.length && taken[t]!.start < end) continue;
    let digits = 0;
    for (let i = m.index; i < end; i++) if (text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) digits++;
    out.push({ start: m.index, end, digits });
  }
  return out;
}

const oneSpaceApart = (text: string, a: Group, b: Group) => b.start - a.end === 1 && (text[a.end] === ' ' || text[a.end] === '\t');

function isPhoneNumber(written: string, regions: readonly CountryCode[]): boolean {
  if (!/[+()\-. /]/.test(written) || DATE.test(written)) return false;
  return regions.some((defaultCountry) => parsePhoneNumberFromString(written, { defaultCountry, extract: false })?.isValid() === true);
}

/**
 * The phone numbers of `text` outside `taken` (what other detectors found, in text order): an
 * address's or a card's digits are not tried as a number, which also saves most of the parsing
 * on digit-heavy text.
 */
export function findPhoneNumbers(text: string, regions: readonly CountryCode[], taken: readonly PiiSpan[] = []): PiiSpan[] {
  const out: PiiSpan[] = [];
  const groups = groupsOf(text, taken);
  for (let i = 0; i < groups.length; i++) {
    let last = i;
    let digits = groups[i]!.digits;
    while (last + 1 < groups.length && last + 1 - i < MAX_GROUPS && oneSpaceApart(text, groups[last]!, groups[last + 1]!) && digits + groups[last + 1]!.digits <= MAX_DIGITS) {
      digits += groups[++last]!.digits;
    }
    for (let j = last; j >= i; j--) {
      const start = groups[i]!.start;
      const end = groups[j]!.end;
      const n = groups.slice(i, j + 1).reduce((s, g) => s + g.digits, 0);
      if (n < MIN_DIGITS) break;
      const written = text.slice(start, end);
      if (!standsAlone(text, start, end) || TIME_AFTER.test(text.slice(end, end + 4)) || !isPhoneNumber(written, regions)) continue;
      out.push({ type: 'PHONE_NUMBER', start, end });
      i = j;
      break;
    }
  }
  return out;
}
