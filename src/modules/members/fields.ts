/**
 * Pure rules for member fields: normalizing what people type at a counter into one canonical form,
 * so that lookups and the uniqueness of email and phone per business mean what they should.
 */

/** E.164 allows at most 15 digits; fewer than 7 is never a reachable international number. */
const PHONE_DIGITS_MIN = 7;
const PHONE_DIGITS_MAX = 15;
// Separators people write inside phone numbers; anything else (letters, "ext", a second "+") is refused.
const PHONE_SEPARATORS = /[\s().\-/]/g;

/**
 * A phone number in E.164 form (`+` and digits), or null when it cannot be one. Spaces, dashes,
 * dots, slashes and parentheses are dropped; a leading `00` is read as `+`. A number without its
 * country code is refused: guessing the country would merge two customers' numbers.
 *
 * @example normalizePhone("+31 (6) 1234-5678") // "+31612345678"
 */
export function normalizePhone(raw: string): string | null {
  const compact = raw.trim().replace(PHONE_SEPARATORS, "");
  const international = compact.startsWith("00") ? `+${compact.slice(2)}` : compact;
  const match = /^\+([1-9]\d*)$/.exec(international);
  if (!match?.[1]) return null;
  const digits = match[1].length;
  return digits >= PHONE_DIGITS_MIN && digits <= PHONE_DIGITS_MAX ? international : null;
}

/** The calendar date `YYYY-MM-DD` of wall-clock parts, e.g. today in the business's time zone. */
export function isoDate(parts: { year: number; month: number; day: number }): string {
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  return `${pad(parts.year, 4)}-${pad(parts.month, 2)}-${pad(parts.day, 2)}`;
}

/** The earliest birthday accepted; anything earlier is a typo, not a customer. */
export const BIRTHDAY_MIN = "1900-01-01";

/**
 * Why a birthday is refused, or null when it is plausible: not before 1900 and not after `today`
 * (both `YYYY-MM-DD`, so string order is date order).
 *
 * @example birthdayProblem("2031-01-01", "2026-03-02") // "must not be in the future"
 */
export function birthdayProblem(birthday: string, today: string): string | null {
  if (birthday < BIRTHDAY_MIN) return `must not be before ${BIRTHDAY_MIN}`;
  if (birthday > today) return "must not be in the future";
  return null;
}

/** Escapes `%`, `_` and `\` so user text matches literally inside a LIKE pattern. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * The digits to search phone numbers by when a search text looks like (part of) a phone number,
 * else null. At least 3 digits, so "1" does not match half the members.
 *
 * @example phoneSearchDigits("+31 6 12") // "31612"
 */
export function phoneSearchDigits(q: string): string | null {
  const compact = q.trim().replace(PHONE_SEPARATORS, "");
  if (!/^\+?\d{3,15}$/.test(compact)) return null;
  return compact.replace("+", "");
}
