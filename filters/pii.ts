/**
 * Personal data: a mapper that replaces e-mail addresses, phone numbers,
 * public IP addresses, payment card numbers, IBANs and US Social Security numbers with typed
 * placeholders (`<EMAIL_ADDRESS>` ..., Presidio's entity names) and counts them per type in
 * `meta.pii`. Numbers are matched only when they stand alone and pass their checks (Luhn, MOD
 * 97-10, the region's phone patterns), so version numbers, dates, hashes and identifiers stay.
 * In source code only `code_types` are looked for: its numeric constants are not card numbers.
 */
import { z } from 'zod';
import { isSupportedCountry } from 'libphonenumber-js/max';
import { defineRuleStage, KEEP, type Verdict } from '../pipeline/stage.ts';
import type { Doc } from '../pipeline/doc.ts';
import { isCode } from '../text/code-detection.ts';
import { findPii, redact } from './pii/find.ts';
import { metaKeyOf, PII_TYPES, type PiiSpan, type PiiType } from './pii/types.ts';

const piiType = z.enum(PII_TYPES);

/** Defaults: every type (the six the issue names, as Presidio names them); phone regions and code types are *ours*. */
export const piiOptions = z
  .object({
    types: z.array(piiType).default([...PII_TYPES]).describe('Kinds of personal data to find and replace.'),
    code_types: z
      .array(piiType)
      .default(['EMAIL_ADDRESS', 'IP_ADDRESS'])
      .describe('Kinds looked for in documents recognised as code (numbers in code are constants, not card or phone numbers).'),
    phone_regions: z
      .array(z.string().refine((c) => isSupportedCountry(c), { message: 'not a region libphonenumber knows (ISO 3166-1 alpha-2, e.g. US, GB, DE)' }))
      .default(['US'])
      .describe('Regions whose national phone formats are recognised (numbers written with + and a country code are found whatever the region).'),
    replace: z.boolean().default(true).describe('Replace what is found with its placeholder; false only counts it in meta.pii.'),
  })
  .strict();
export type PiiOptions = z.infer<typeof piiOptions>;

/** The counts written to `meta.pii`: one key per type looked for, and `total`. */
export type PiiCounts = Record<string, number>;

/** The types looked for in this document: `code_types` of `types` in code, else `types`. */
export function typesFor(doc: Doc, o: PiiOptions): PiiType[] {
  return isCode(doc) ? o.types.filter((t) => o.code_types.includes(t)) : o.types;
}

/** What the stage finds in a document (and would replace), without changing it. */
export function piiSpansOf(doc: Doc, o: PiiOptions): PiiSpan[] {
  return findPii(doc.text, { types: typesFor(doc, o), phoneRegions: o.phone_regions.filter((c) => isSupportedCountry(c)) });
}

export function pii(doc: Doc, o: PiiOptions): Verdict {
  const spans = piiSpansOf(doc, o);
  const counts: PiiCounts = {};
  for (const t of typesFor(doc, o)) counts[metaKeyOf(t)] = 0;
  for (const s of spans) counts[metaKeyOf(s.type)]! += 1;
  counts.total = spans.length;
  doc.meta.pii = counts;
  if (o.replace && spans.length > 0) doc.text = redact(doc.text, spans);
  return KEEP;
}

export const piiStage = defineRuleStage<PiiOptions>({
  name: 'pii',
  kind: 'mapper',
  description: 'Replace e-mail addresses, phone numbers, public IPs, card numbers, IBANs and US SSNs with typed placeholders; counts per type in meta.pii',
  options: piiOptions,
  rule: (doc, o) => pii(doc, o),
});

/** This module's stages, for the registry. */
export const stages = [piiStage];
