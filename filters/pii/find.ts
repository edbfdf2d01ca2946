/**
 * Every detector over one text, and the replacement of what they found. Where two detectors
 * claim overlapping text, the more specific wins (an address's digits are not a phone number, a
 * card number is not a phone number): the order of `PRIORITY`.
 */
import type { CountryCode } from 'libphonenumber-js/max';
import { findCreditCards } from './credit-card.ts';
import { findEmails } from './email.ts';
import { findIbans } from './iban.ts';
import { findIpAddresses } from './ip-address.ts';
import { findPhoneNumbers } from './phone.ts';
import { findUsSsns } from './us-ssn.ts';
import { placeholderOf, type PiiSpan, type PiiType } from './types.ts';

export interface FindOptions {
  types: readonly PiiType[];
  phoneRegions: readonly CountryCode[];
}

const PRIORITY: readonly PiiType[] = ['EMAIL_ADDRESS', 'IBAN', 'CREDIT_CARD', 'US_SSN', 'IP_ADDRESS', 'PHONE_NUMBER'];

const DETECTORS: Record<PiiType, (text: string, o: FindOptions, taken: readonly PiiSpan[]) => PiiSpan[]> = {
  EMAIL_ADDRESS: (t) => findEmails(t),
  IBAN: (t) => findIbans(t),
  CREDIT_CARD: (t) => findCreditCards(t),
  US_SSN: (t) => findUsSsns(t),
  IP_ADDRESS: (t) => findIpAddresses(t),
  PHONE_NUMBER: (t, o, taken) => findPhoneNumbers(t, o.phoneRegions, taken),
};

/** The spans of personal data in `text`, in text order, none overlapping. */
export function findPii(text: string, o: FindOptions): PiiSpan[] {
  let kept: PiiSpan[] = [];
  for (const type of PRIORITY) {
    if (o.types.includes(type)) kept = mergeFree(kept, DETECTORS[type](text, o, kept));
  }
  return kept;
}

/** `kept` (in order, not overlapping) with the spans of `found` that overlap none of it, in text order. */
function mergeFree(kept: PiiSpan[], found: PiiSpan[]): PiiSpan[] {
  if (found.length === 0) return kept;
  found.sort((a, b) => a.start - b.start);
  const out: PiiSpan[] = [];
  let k = 0;
  let lastEnd = 0; // end of the last span taken from `found`: its own matches must not overlap either
  for (const s of found) {
    while (k < kept.length && kept[k]!.end <= s.start) out.push(kept[k++]!);
    const clash = (k < kept.length && kept[k]!.start < s.end) || s.start < lastEnd;
    if (clash) continue;
    out.push(s);
    lastEnd = s.end;
  }
  while (k < kept.length) out.push(kept[k++]!);
  return out;
}

/** `text` with each span replaced by its placeholder (spans in text order, not overlapping). */
export function redact(text: string, spans: readonly PiiSpan[]): string {
  let out = '';
  let at = 0;
  for (const s of spans) {
    out += text.slice(at, s.start) + placeholderOf(s.type);
    at = s.end;
  }
  return out + text.slice(at);
}
