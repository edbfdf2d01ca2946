/** The kinds of personal data the `pii` stage finds, and what it finds them as. */

/** Placeholder names as Presidio's entity types spell them (`<EMAIL_ADDRESS>` ...). */
export const PII_TYPES = ['EMAIL_ADDRESS', 'PHONE_NUMBER', 'IP_ADDRESS', 'CREDIT_CARD', 'IBAN', 'US_SSN'] as const;
export type PiiType = (typeof PII_TYPES)[number];

/** A piece of text found to be personal data: `text.slice(start, end)`. */
export interface PiiSpan {
  type: PiiType;
  start: number;
  end: number;
}

/** The placeholder a span is replaced with. */
export const placeholderOf = (type: PiiType): string => `<${type}>`;

/** The `meta.pii` key of a type: `EMAIL_ADDRESS` → `email_address` (meta keys are snake case). */
export const metaKeyOf = (type: PiiType): string => type.toLowerCase();
