/**
 * E-mail addresses: found from each `@` outwards (a linear scan, where an address regex with
 * nested repetition can backtrack for long on a long run of dots and letters). The local part
 * takes the characters people use (letters, digits and `._%+-`: RFC 5322's dot-atom less its rarely seen symbols),
 * the domain needs a dot and an alphabetic top-level label. Addresses at domains reserved for
 * examples (RFC 2606, RFC 6761) are nobody's, and `icon@2x.png` is a file name, not an address.
 */
import { isAsciiLetterCode, isDigitCode } from './boundary.ts';
import type { PiiSpan } from './types.ts';

const MAX_LOCAL = 64; // RFC 5321 §4.5.3.1.1
const MAX_DOMAIN = 253; // RFC 1035 §2.3.4 less the final dot

const isLocalCode = (c: number) => isDigitCode(c) || isAsciiLetterCode(c) || c === 46 || c === 95 || c === 37 || c === 43 || c === 45; // . _ % + -
const isDomainCode = (c: number) => isDigitCode(c) || isAsciiLetterCode(c) || c === 46 || c === 45; // . -

const RESERVED_DOMAIN = /(^|\.)(example\.(com|net|org)|[^.]+\.(example|invalid|test|localhost))$/i;
const FILE_LIKE = /^\d+x\.|\.(png|jpe?g|gif|svg|webp|css|js)$/i;

export function findEmails(text: string): PiiSpan[] {
  const out: PiiSpan[] = [];
  let at = text.indexOf('@');
  while (at !== -1) {
    const span = emailAround(text, at);
    if (span !== null) out.push(span);
    at = text.indexOf('@', span === null ? at + 1 : span.end);
  }
  return out;
}

function emailAround(text: string, at: number): PiiSpan | null {
  let start = at;
  while (start > 0 && at - start <= MAX_LOCAL && isLocalCode(text.charCodeAt(start - 1))) start--;
  while (start < at && text.charCodeAt(start) === 46) start++; // a sentence's dot is not the address's
  if (start === at || at - start > MAX_LOCAL || text.charCodeAt(at - 1) === 46) return null;
  // `<c40sdm$mov$1@smc.vnet.net>` is a message id: the symbols RFC 5322 allows but people do not write.
  if (start > 0 && '$#!*^~|&'.includes(text[start - 1]!)) return null;
  let end = at + 1;
  while (end < text.length && end - at <= MAX_DOMAIN && isDomainCode(text.charCodeAt(end))) end++;
  while (end > at + 1 && (text.charCodeAt(end - 1) === 46 || text.charCodeAt(end - 1) === 45)) end--;
  const domain = text.slice(at + 1, end);
  const labels = domain.split('.');
  if (labels.length < 2 || labels.some((l) => l.length === 0 || l.length > 63 || l.startsWith('-') || l.endsWith('-'))) return null;
  if (!/^[A-Za-z]{2,}$/.test(labels[labels.length - 1]!)) return null;
  if (RESERVED_DOMAIN.test(domain) || FILE_LIKE.test(domain)) return null;
  // `git@github.com:owner/repo` is an SSH remote: `git` is the host's service account, not a person.
  if (text.slice(start, at) === 'git' && text.charCodeAt(end) === 58) return null;
  return { type: 'EMAIL_ADDRESS', start, end };
}
