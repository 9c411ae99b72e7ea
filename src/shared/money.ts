import { currencyDigits } from "./currencies.ts";

/** The accepted currencies and their digits are pinned data (src/shared/currencies.ts), not `Intl`'s. */
export { isCurrency } from "./currencies.ts";

// Building an Intl.NumberFormat costs tens of microseconds; there are few currencies and locales.
const formats = new Map<string, Intl.NumberFormat>();
function currencyFormat(currency: string, locale: string): Intl.NumberFormat {
  const key = `${locale}/${currency}`;
  let f = formats.get(key);
  if (!f) {
    const digits = minorDigits(currency);
    f = new Intl.NumberFormat(locale, {
      style: "currency",
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    formats.set(key, f);
  }
  return f;
}

// Formatting costs microseconds too, and the same few amounts (a rule's "per €1.00") come back
// on every purchase: the texts are remembered per locale, currency and amount, a bounded number.
const TEXTS_MAX = 10_000;
const texts = new Map<string, Map<number, string>>();

/** Digits of the minor unit: 2 for EUR (cents), 0 for JPY, 3 for KWD (pinned, src/shared/currencies.ts). */
export function minorDigits(currency: string): number {
  return currencyDigits(currency);
}

/** The number of minor units in one major unit: 100 for EUR. */
export function minorPerMajor(currency: string): number {
  return 10 ** minorDigits(currency);
}

/**
 * Formats integer minor units for people.
 *
 * @example formatMoney(1250, "EUR", "nl-NL") // "€ 12,50"
 */
export function formatMoney(amountMinor: number, currency: string, locale = "en"): string {
  let byAmount = texts.get(currency + locale);
  if (!byAmount) {
    byAmount = new Map();
    texts.set(currency + locale, byAmount);
  }
  let text = byAmount.get(amountMinor);
  if (text === undefined) {
    text = currencyFormat(currency, locale).format(amountMinor / minorPerMajor(currency));
    if (byAmount.size >= TEXTS_MAX) byAmount.clear();
    byAmount.set(amountMinor, text);
  }
  return text;
}

/** Largest amount accepted on a single purchase, in minor units: absurd amounts are refused. */
export const MAX_AMOUNT_MINOR = 100_000_000_00;
