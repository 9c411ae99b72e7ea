/**
 * Money, numbers and dates in the user's locale and the business's time zone. Money is integer
 * minor units with an ISO-4217 currency everywhere, as in the API.
 */

const numberFormats = new Map<string, Intl.NumberFormat>();
function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let format = numberFormats.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, options);
    numberFormats.set(key, format);
  }
  return format;
}

/** The number of minor units in one major unit's decimals (EUR 2, JPY 0, BHD 3). */
export function currencyDigits(currency: string): number {
  return numberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2;
}

/** @example formatMoney(450, "EUR", "nl") // "€ 4,50" */
export function formatMoney(amountMinor: number, currency: string, locale: string): string {
  return numberFormat(locale, { style: "currency", currency }).format(
    amountMinor / 10 ** currencyDigits(currency),
  );
}

/**
 * Reads an amount typed at the counter ("4,50", "4.5", "12") as minor units; null when it is not
 * a positive amount with at most the currency's decimals.
 *
 * @example parseMoney("4,50", "EUR") // 450
 */
export function parseMoney(input: string, currency: string): number | null {
  const digits = currencyDigits(currency);
  const cleaned = input.trim().replace(/\s/g, "");
  const match = /^(\d{1,9})(?:[.,](\d*))?$/.exec(cleaned);
  if (!match) return null;
  const fraction = match[2] ?? "";
  if (fraction.length > digits) return null;
  const minor = Number(match[1]) * 10 ** digits + Number(fraction.padEnd(digits, "0") || "0");
  return minor > 0 ? minor : null;
}

export function formatNumber(value: number, locale: string): string {
  return numberFormat(locale, {}).format(value);
}

/** @example formatDate("2026-11-22T10:00:00Z", "nl", "Europe/Amsterdam") // "22 nov 2026" */
export function formatDate(
  iso: string,
  locale: string,
  timeZone: string,
  options: Intl.DateTimeFormatOptions = { dateStyle: "medium" },
): string {
  return new Intl.DateTimeFormat(locale, { timeZone, ...options }).format(new Date(iso));
}

/**
 * The last day before `iso`, an instant something ends at (points expiring, a tier's end): an
 * end-of-month expiry is stored as the first instant of the next month, and the customer must read
 * the month's last day, not the next month's first, when the points can still be used.
 */
export function formatLastDay(iso: string, locale: string, timeZone: string): string {
  return formatDate(new Date(Date.parse(iso) - 1).toISOString(), locale, timeZone);
}

export function formatDateTime(iso: string, locale: string, timeZone: string): string {
  return formatDate(iso, locale, timeZone, { dateStyle: "medium", timeStyle: "short" });
}

/** A calendar day (`YYYY-MM-DD`, as birthdays and expiry days are sent) in the locale. */
export function formatDay(
  ymd: string,
  locale: string,
  options: Intl.DateTimeFormatOptions = { dateStyle: "medium" },
): string {
  return new Intl.DateTimeFormat(locale, { timeZone: "UTC", ...options }).format(
    new Date(`${ymd.slice(0, 10)}T00:00:00Z`),
  );
}
