/** ISO-4217 currencies this runtime knows, with the number of digits of their minor unit. */
const currencies = new Set(Intl.supportedValuesOf("currency"));

export function isCurrency(code: string): boolean {
  return /^[A-Z]{3}$/.test(code) && currencies.has(code);
}

/** Digits of the minor unit: 2 for EUR (cents), 0 for JPY, 3 for KWD. */
export function minorDigits(currency: string): number {
  return (
    new Intl.NumberFormat("en", { style: "currency", currency }).resolvedOptions().maximumFractionDigits ?? 2
  );
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
  return new Intl.NumberFormat(locale, { style: "currency", currency }).format(
    amountMinor / minorPerMajor(currency),
  );
}

/** Largest amount accepted on a single purchase, in minor units: absurd amounts are refused. */
export const MAX_AMOUNT_MINOR = 100_000_000_00;
