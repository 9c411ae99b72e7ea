import { currencyDigits } from "../../../src/shared/currencies.ts";

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

/**
 * The number of minor units in one major unit's decimals (EUR 2, JPY 0, HUF 0, BHD 3): the
 * server's pinned table, not this browser's `Intl` data, which may differ (src/shared/currencies.ts).
 */
export { currencyDigits };

/** @example formatMoney(450, "EUR", "nl") // "€ 4,50" */
export function formatMoney(amountMinor: number, currency: string, locale: string): string {
  const digits = currencyDigits(currency);
  return numberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  }).format(amountMinor / 10 ** digits);
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

const dayFormats = new Map<string, Intl.DateTimeFormat>();
/** The calendar day (`YYYY-MM-DD`) an instant falls on in `timeZone`. */
export function localDay(iso: string | number, timeZone: string): string {
  let format = dayFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat("en-CA", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
    });
    dayFormats.set(timeZone, format);
  }
  return format.format(new Date(iso));
}

/**
 * Whether `iso` is the first instant of a day in `timeZone` (its midnight, or the first hour of a
 * day whose midnight a clock change skips): the day changes between the millisecond before and it.
 */
export function isStartOfDay(iso: string, timeZone: string): boolean {
  const at = Date.parse(iso);
  return localDay(at - 1, timeZone) !== localDay(at, timeZone);
}

/**
 * When something that ends at the instant `iso` (points expiring, a tier's end) can last be used,
 * as the customer must read it. An end at the start of a day (end of month or year: the first
 * instant of the next month) is told as the last whole day, `time: false`: the month's last day,
 * not the next month's first. An end at another time of day (points that expire a number of days
 * after the purchase, at the time of day it was made) is told with its date and time, `time: true`,
 * to be worded "before …": the date alone would promise the rest of that day.
 */
export function formatUntil(iso: string, locale: string, timeZone: string): { date: string; time: boolean } {
  return isStartOfDay(iso, timeZone)
    ? { date: formatDate(new Date(Date.parse(iso) - 1).toISOString(), locale, timeZone), time: false }
    : { date: formatDateTime(iso, locale, timeZone), time: true };
}

/**
 * From when something that begins at the instant `iso` can be used (pending points becoming
 * spendable), as the customer must read it: a start at the beginning of a day is that day,
 * `time: false`; a start at another time of day (points pending a number of days after the
 * purchase, at the time of day it was made) is told with its date and time, `time: true`: the
 * date alone would promise the whole of that day. The counterpart of `formatUntil`.
 */
export function formatFrom(iso: string, locale: string, timeZone: string): { date: string; time: boolean } {
  return isStartOfDay(iso, timeZone)
    ? { date: formatDate(iso, locale, timeZone), time: false }
    : { date: formatDateTime(iso, locale, timeZone), time: true };
}

/** One line of points per instant as it is shown (a day, or a date and a minute). */
export interface PointsLine {
  key: string;
  date: string;
  time: boolean;
  points: number;
}

/**
 * Points per instant, one line per instant as `shown` tells it, earliest first: lots whose
 * instants fall within the same shown minute (purchases seconds apart) make one line, not
 * several identical ones.
 */
function pointsLines(
  lots: readonly { at: string; points: number }[],
  shown: (iso: string) => { date: string; time: boolean },
): PointsLine[] {
  const lines = new Map<string, PointsLine>();
  for (const lot of [...lots].sort((a, b) => Date.parse(a.at) - Date.parse(b.at))) {
    const when = shown(lot.at);
    const key = `${when.time ? "t" : "d"}:${when.date}`;
    const line = lines.get(key);
    if (line) line.points += lot.points;
    else lines.set(key, { key, ...when, points: lot.points });
  }
  return [...lines.values()];
}

/**
 * The points expiring soon (`points.expiring_soon`, one entry per instant), one line per end as it
 * is shown (`formatUntil`): the lots of purchases made within the same minute (their ends differ
 * by seconds) make one line, not several identical ones. Earliest first, as the API sends them.
 */
export function expiryLines(
  lots: readonly { expires_at: string; points: number }[],
  locale: string,
  timeZone: string,
): PointsLine[] {
  return pointsLines(
    lots.map((lot) => ({ at: lot.expires_at, points: lot.points })),
    (iso) => formatUntil(iso, locale, timeZone),
  );
}

/**
 * The pending points by when they become spendable (`points.pending_until`, one entry per
 * release time), one line per start as it is shown (`formatFrom`), earliest first.
 */
export function releaseLines(
  lots: readonly { available_at: string; points: number }[],
  locale: string,
  timeZone: string,
): PointsLine[] {
  return pointsLines(
    lots.map((lot) => ({ at: lot.available_at, points: lot.points })),
    (iso) => formatFrom(iso, locale, timeZone),
  );
}

/**
 * The pending points as a screen tells them: the first `max` release lines and the points that
 * become spendable later (`later`: the API lists the first release times only, and `pending`
 * counts them all). A card kept from before release times were sent has none: no lines, and
 * everything is `later`.
 */
export function pendingLines(
  points: { pending: number; pending_until?: readonly { available_at: string; points: number }[] },
  locale: string,
  timeZone: string,
  max: number,
): { lines: PointsLine[]; later: number } {
  const lines = releaseLines(points.pending_until ?? [], locale, timeZone).slice(0, Math.max(0, max));
  const shown = lines.reduce((sum, line) => sum + line.points, 0);
  return { lines, later: Math.max(0, points.pending - shown) };
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
