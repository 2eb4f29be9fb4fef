/** The longest address SMTP allows (RFC 5321 path limit); longer input is rejected, not truncated. */
export const MAX_EMAIL_LENGTH = 254;

/**
 * The one form of an email address that is stored, indexed and compared: trimmed, Unicode NFC,
 * lower-cased. Two spellings of one address therefore cannot become two accounts.
 */
export function normalizeEmail(raw: string): string {
  return raw.trim().normalize('NFC').toLowerCase();
}

// Deliberately loose (one @, something on each side, a dot in the domain, no spaces or angle
// brackets): the real test of an address is a mail that arrives, not a regular expression.
const SHAPE = /^[^\s@<>()[\]\\,;:"]+@[^\s@<>()[\]\\,;:"]+\.[^\s@<>()[\]\\,;:".]+$/u;

/** True for a normalised address the user store accepts. */
export function isAcceptableEmail(normalized: string): boolean {
  return normalized.length <= MAX_EMAIL_LENGTH && SHAPE.test(normalized);
}
