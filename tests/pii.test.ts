/**
 * The `pii` mapper: what each detector finds, what it must leave alone (code, version numbers,
 * dates, hashes), the checksums that decide cards and IBANs, and the stage's meta and options.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pii, piiOptions } from '../filters/pii.ts';
import { findPii, redact } from '../filters/pii/find.ts';
import { PII_TYPES } from '../filters/pii/types.ts';
import { luhnValid } from '../filters/pii/credit-card.ts';
import { ibanChecksumValid } from '../filters/pii/iban.ts';
import type { Doc } from '../pipeline/doc.ts';

const all = { types: [...PII_TYPES], phoneRegions: ['US' as const] };
const masked = (text: string) => redact(text, findPii(text, all));

test('each type is replaced by its placeholder', () => {
  assert.equal(masked('Write to jane.roe+news@mail.co.uk today.'), 'Write to <EMAIL_ADDRESS> today.');
  assert.equal(masked('Call (212) 555-0123 or +44 20 7946 0958.'), 'Call <PHONE_NUMBER> or <PHONE_NUMBER>.');
  assert.equal(masked('from 8.8.8.8 and 2a00:1450:4001:82a::200e'), 'from <IP_ADDRESS> and <IP_ADDRESS>');
  assert.equal(masked('Visa 4111 1111 1111 1111, Amex 3782-822463-10005, MC 5555555555554444'), 'Visa <CREDIT_CARD>, Amex <CREDIT_CARD>, MC <CREDIT_CARD>');
  assert.equal(masked('pay to DE89 3704 0044 0532 0130 00 or GB82WEST12345698765432'), 'pay to <IBAN> or <IBAN>');
  assert.equal(masked('SSN: 123-45-6789.'), 'SSN: <US_SSN>.');
});

test('version numbers, dates, times, hashes, decimals and ISBNs are left alone', () => {
  const text = [
    'Version 1.2.3.4 and v2.10.0.1, release 10.0.19041.1 (build 4.4.0.1).',
    'Released 2019-07-15 at 10:30:15, or 12/25/2019, 25.12.2019, 2019.12.25.',
    'commit 3f9a2b1c4d5e6f708192a3b4c5d6e7f8091a2b3c, id 5d41402abc4b2a76b9719d911017c592',
    'pi = 3.14159265358979, total $1,234,567.89, ISBN 978-3-16-148410-0, ZIP 90210-1234.',
  ].join('\n');
  assert.equal(masked(text), text);
});

test('private, loopback and documentation addresses and example domains are nobody\'s', () => {
  const text = 'listen on 127.0.0.1, 10.0.0.2, 192.168.1.1, 203.0.113.7, 2001:db8::1; mail user@example.com, a@b.test; icon@2x.png';
  assert.equal(masked(text), text);
});

test('a number must pass its check: Luhn for cards, MOD 97-10 for IBANs, SSA rules for SSNs', () => {
  assert.ok(luhnValid('4111111111111111'));
  assert.ok(!luhnValid('4111111111111112'));
  assert.ok(ibanChecksumValid('DE89370400440532013000'));
  assert.ok(!ibanChecksumValid('DE89370400440532013001'));
  const wrong = 'card 4111 1111 1111 1112, iban DE89 3704 0044 0532 0130 01, ssn 000-12-3456 666-12-3456 123-00-4567';
  assert.equal(masked(wrong), wrong);
  // Luhn-valid but no network issues 16-digit numbers starting with 1: an id, not a card.
  assert.ok(luhnValid('1234567812345670'));
  assert.equal(masked('order 1234567812345670'), 'order 1234567812345670');
});

test('a match must stand alone: digits inside a longer token are not personal data', () => {
  const text = 'x4111111111111111 4111111111111111a 8.8.8.8.8 a123-45-6789 DE89370400440532013000X';
  assert.equal(masked(text), text);
});

function doc(text: string, meta: Record<string, unknown> = {}): Doc {
  return { id: 'd', text, meta };
}

test('the stage counts every type in meta.pii, with a total, and replaces the text', () => {
  const d = doc('Mail a.person@gmail.com or b.person@gmail.com, call 415-555-2671, SSN 219-09-9999.');
  assert.deepEqual(pii(d, piiOptions.parse({})), { keep: true });
  assert.equal(d.text, 'Mail <EMAIL_ADDRESS> or <EMAIL_ADDRESS>, call <PHONE_NUMBER>, SSN <US_SSN>.');
  assert.deepEqual(d.meta.pii, { email_address: 2, phone_number: 1, ip_address: 0, credit_card: 0, iban: 0, us_ssn: 1, total: 4 });
});

test('replace: false counts without changing the text; types limits what is looked for', () => {
  const text = 'Mail a.person@gmail.com, call 415-555-2671.';
  const counted = doc(text);
  pii(counted, piiOptions.parse({ replace: false }));
  assert.equal(counted.text, text);
  assert.equal((counted.meta.pii as Record<string, number>).total, 2);
  const emailsOnly = doc(text);
  pii(emailsOnly, piiOptions.parse({ types: ['EMAIL_ADDRESS'] }));
  assert.equal(emailsOnly.text, 'Mail <EMAIL_ADDRESS>, call 415-555-2671.');
  assert.deepEqual(emailsOnly.meta.pii, { email_address: 1, total: 1 });
});

test('in code only code_types are looked for: an author address goes, numeric constants stay', () => {
  const source = '// Author: Jean Dupont <jean.dupont@gmail.com>\nconst MAGIC = 4111111111111111;\nconst PORT = 415-555-2671;\nfetch("8.8.8.8");\n';
  const d = doc(source, { category: 'code' });
  pii(d, piiOptions.parse({}));
  assert.equal(d.text, '// Author: Jean Dupont <<EMAIL_ADDRESS>>\nconst MAGIC = 4111111111111111;\nconst PORT = 415-555-2671;\nfetch("<IP_ADDRESS>");\n');
  assert.deepEqual(d.meta.pii, { email_address: 1, ip_address: 1, total: 2 });
});

test('phone_regions adds national formats; an unknown region is refused by the schema', () => {
  const text = 'Ring 030 1234567 or 020 7946 0958.';
  assert.equal(redact(text, findPii(text, { types: ['PHONE_NUMBER'], phoneRegions: ['US'] })), text);
  assert.equal(redact(text, findPii(text, { types: ['PHONE_NUMBER'], phoneRegions: ['DE', 'GB'] })), 'Ring <PHONE_NUMBER> or <PHONE_NUMBER>.');
  assert.throws(() => piiOptions.parse({ phone_regions: ['XX'] }), /not a region/);
});

test('a long text with many candidates is scanned in linear time', () => {
  const line = 'user.name@host.org 8.8.4.4 1.2.3.4 2019-07-15 (212) 555-0123 4111 1111 1111 1111 ';
  const text = line.repeat(20_000);
  const t0 = performance.now();
  const spans = findPii(text, all);
  assert.equal(spans.length, 5 * 20_000);
  assert.ok(performance.now() - t0 < 20_000, `${performance.now() - t0} ms`);
  assert.ok(!findPii('@'.repeat(100_000) + 'a.'.repeat(100_000), all).length);
});
