/**
 * Pure rules for member fields: dates and search text. Phone numbers have their own rules in
 * `phone.ts`.
 */

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
