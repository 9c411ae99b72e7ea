import { minorDigits } from "./money.ts";

/**
 * What a currency's money is worth in a shop, roughly: how many units of it buy what €1 buys,
 * rounded to a friendly number. It sizes the money in a program's defaults (a template's earn
 * rate, discounts and tier thresholds) and converts a program's amounts when a currency chosen by
 * mistake is corrected, so a forint bakery does not give a pastry away for 100 Ft. It is not an
 * exchange rate, and nothing is ever paid with it.
 *
 * A currency missing here counts as 1 whole unit (of its own minor digits) per €1.
 */
export const PRICE_LEVELS: Readonly<Record<string, number>> = {
  EUR: 1,
  USD: 1,
  GBP: 1,
  CHF: 1,
  CAD: 1.5,
  AUD: 1.5,
  PLN: 4,
  RON: 5,
  BRL: 5,
  DKK: 7,
  SEK: 10,
  NOK: 10,
  CZK: 25,
  ISK: 150,
  JPY: 150,
  HUF: 400,
  KRW: 1500,
};

/** Whole units of `currency` that buy what €1 buys (`PRICE_LEVELS`, else 1). */
export function priceLevel(currency: string): number {
  return PRICE_LEVELS[currency] ?? 1;
}

/** The leading digits a friendly amount has: 1,200 Ft, 7.50 €, 250,000 ¥, 40 zł. */
const AMOUNT_STEPS = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 7.5, 8, 10];
/** The leading digits of a friendly spend per point: a point per 1 €, 2 $, 5 zł, 20 Kč, 500 Ft. */
const RATE_STEPS = [1, 2, 5, 10];

/** `value` (> 0) rounded to the nearest `steps` × a power of ten, nearest by ratio. */
function nearestStep(value: number, steps: readonly number[]): number {
  if (!(value > 0) || !Number.isFinite(value)) return 0;
  const power = 10 ** Math.floor(Math.log10(value));
  const mantissa = value / power;
  let best = 1;
  for (const step of steps) {
    if (Math.abs(Math.log(mantissa / step)) < Math.abs(Math.log(mantissa / best))) best = step;
  }
  return best * power;
}

/** Whole units as minor units of `currency`, at least 1 when there is anything at all. */
function toMinor(major: number, currency: string): number {
  if (major <= 0) return 0;
  return Math.max(1, Math.round(major * 10 ** minorDigits(currency)));
}

/**
 * A friendly amount of `currency`, in minor units, for one worth about `minor` (> 0) minor units:
 * 201,734 Ft → 200,000 Ft; 10.50 kr → 10.00 kr.
 *
 * @example friendlyMinor(201_734, "HUF") // 200_000 (HUF has no minor digits)
 */
export function friendlyMinor(minor: number, currency: string): number {
  const unit = 10 ** minorDigits(currency);
  return toMinor(nearestStep(minor / unit, AMOUNT_STEPS), currency);
}

/** A friendly spend per point (1, 2 or 5 × a power of ten whole units), in minor units. */
export function friendlyRateMinor(minor: number, currency: string): number {
  const unit = 10 ** minorDigits(currency);
  return toMinor(nearestStep(minor / unit, RATE_STEPS), currency);
}

/**
 * What costs `euros` in the euro area, in `currency`, as a friendly amount in minor units.
 *
 * @example typicalMinor(500, "HUF") // 200_000 (200,000 Ft)
 */
export function typicalMinor(euros: number, currency: string): number {
  return friendlyMinor(euros * priceLevel(currency) * 10 ** minorDigits(currency), currency);
}

/**
 * The spend a template gives a point for: about what €1 buys, as a friendly spend per point
 * (1 € or $, 2 CA$, 5 zł, 20 Kč, 10 kr, 200 ¥, 500 Ft), in minor units.
 *
 * @example earnUnitMinor("JPY") // 200
 */
export function earnUnitMinor(currency: string): number {
  return friendlyRateMinor(priceLevel(currency) * 10 ** minorDigits(currency), currency);
}

/** How a program amount is worth the same in another currency: `amount` or a `rate` (spend per point). */
export type AmountKind = "amount" | "rate";

/**
 * An amount of `from` in `to`, by the ratio of their price levels, rounded to a friendly amount
 * (or, for a spend per point, a friendly rate). Zero stays zero.
 *
 * @example convertMinor(1_000, "EUR", "HUF") // 4_000 (€10.00 → 4,000 Ft)
 */
export function convertMinor(minor: number, from: string, to: string, kind: AmountKind = "amount"): number {
  if (minor <= 0) return 0;
  const factor = (priceLevel(to) / priceLevel(from)) * 10 ** (minorDigits(to) - minorDigits(from));
  // Between currencies worth the same (EUR and USD), an amount stays as the owner wrote it.
  if (factor === 1) return minor;
  const inTo = minor * factor;
  return kind === "rate" ? friendlyRateMinor(inTo, to) : friendlyMinor(inTo, to);
}
