/**
 * Phone numbers, validated by libphonenumber-js (Google's libphonenumber metadata, "max": each
 * region's full number patterns, so a number must be one the region can dial, not only of the
 * right length). Candidates are groups of digits and the separators phone numbers use, a space
 * apart (see GAP); from each group the longest run of groups that parses as a valid number is
 * taken. libphonenumber's own text matcher is not used: it takes a run of digit groups as one
 * candidate and finds nothing in `(212) 555-0123 4111 1111` (tests/pii.test.ts). A number must
 * be written as people write phone numbers, with a `+`, a closing parenthesis or separators: ten
 * bare digits are as likely an id. Dates, year ranges and rows of counted numbers are not numbers.
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
    if (text[end - 1] === ')' && !text.slice(m.index, end).includes('(')) end--; // `((612) 439-4474)`
    while (t < taken.length && taken[t]!.end <= m.index) t++;
    if (t < taken.length && taken[t]!.start < end) continue;
    let digits = 0;
    for (let i = m.index; i < end; i++) if (text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) digits++;
    out.push({ start: m.index, end, digits });
  }
  return out;
}

/** Between two groups of one number: a space (also a no-break or thin space, as web pages write them), or a dash between spaces (`0471 - 46 838`). */
const GAP = /^(?:[ \t\u00a0\u2009\u202f]|[ \u00a0][-\u2013][ \u00a0])$/;
const oneSpaceApart = (text: string, a: Group, b: Group) => b.start - a.end <= 3 && GAP.test(text.slice(a.end, b.start));

/** `800/850/1520`: model numbers in a list; a phone number has at most one slash (`030/1234567`). */
const SLASHES = /\/.*\//;
const ISBN_BEFORE = /ISBN(?:-1[03])?:?\s*$/i;

/**
 * Where the digit groups of `written` end, counted in digits from the end of the number: `(212)
 * 555-0123` gives {4, 7}. Counting from the end lines a written number up with its formatted
 * forms whatever prefix it carries (`1-`, `+1 `, `0`).
 */
function groupEndsFromEnd(written: string): Set<number> {
  const ends = new Set<number>();
  let fromEnd = 0;
  let inDigits = false;
  for (let i = written.length - 1; i >= 0; i--) {
    const isDigit = written.charCodeAt(i) >= 48 && written.charCodeAt(i) <= 57;
    if (isDigit) {
      if (!inDigits && fromEnd > 0) ends.add(fromEnd);
      fromEnd++;
    }
    inDigits = isDigit;
  }
  return ends;
}

/**
 * True when the written groups split the number only where one of its formatted forms (national,
 * international) does, or once inside its last group (`+49 30 1234 5678` for `+49 30 12345678`):
 * libphonenumber's STRICT_GROUPING idea. `21 22 23 24 25` in a table is the valid US number
 * (212) 223-2425 to the parser, but not written as one.
 */
function groupedAsFormatted(written: string, formatted: readonly string[]): boolean {
  const ends = groupEndsFromEnd(written);
  return formatted.some((f) => {
    const allowed = groupEndsFromEnd(f);
    const lastGroup = Math.min(...allowed, Infinity);
    allowed.add(f.replace(/\D/g, '').length);
    const inLastGroup = [...ends].filter((e) => e < lastGroup && !allowed.has(e)).length;
    return inLastGroup <= 1 && [...ends].every((e) => e < lastGroup || allowed.has(e));
  });
}

/** `2015-2025`, `30 31 32 33`: a range of years, a row of counted numbers. */
function looksLikeCounting(written: string): boolean {
  const groups = written.match(/\d+/g)!.map(Number);
  if (groups.length === 2 && groups.every((g) => g >= 1500 && g <= 2100)) return true;
  return groups.length >= 3 && groups.every((g, i) => i === 0 || g === groups[i - 1]! + 1);
}

function isPhoneNumber(written: string, regions: readonly CountryCode[]): boolean {
  if (looksLikeCounting(written)) return false;
  // A separator, a `+` or a closing parenthesis: `(2709877975!)` is a count in parentheses.
  if (!/[+)\-. /]/.test(written) || DATE.test(written) || SLASHES.test(written)) return false;
  return regions.some((defaultCountry) => {
    const n = parsePhoneNumberFromString(written, { defaultCountry, extract: false });
    // A leading `+` says "phone number" by itself, and countries group their numbers more freely
    // than libphonenumber's one format (Madrid's `+34 91 340 05 44` is `+34 913 40 05 44` to it).
    return n !== undefined && n.isValid() && (written.startsWith('+') || groupedAsFormatted(written, [n.formatNational(), n.formatInternational()]));
  });
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
      if (!standsAlone(text, start, end) || TIME_AFTER.test(text.slice(end, end + 4)) || ISBN_BEFORE.test(text.slice(Math.max(0, start - 12), start))) continue;
      if (!isPhoneNumber(written, regions)) continue;
      out.push({ type: 'PHONE_NUMBER', start, end });
      i = j;
      break;
    }
  }
  return out;
}
