/**
 * The currencies Regulars accepts and the digits of their minor unit, pinned. Every amount is
 * an integer of minor units, so the digits say what a stored number means: 450 is €4.50, ¥450,
 * 450 Ft. They must not depend on the runtime that reads them. JavaScript's `Intl` takes them
 * from the ICU/CLDR data each engine ships, which differ (ISO 4217 gives the forint 2 digits,
 * this Node's ICU 0, as people price in forint) and change with upgrades: a browser with other
 * data would show 500 Ft as 5.00 and store an owner's typed "500" as 50,000, and an upgrade of the
 * server's Node could rescale every stored amount. So the table is data: taken from Node 20's ICU
 * 78.2 (CLDR 48), which stored amounts were written with, and read by the server
 * (src/shared/money.ts) and the web app (web/src/i18n/format.ts) alike. Plain data: no imports,
 * so the browser bundle can take it.
 *
 * A currency is accepted only if it is here. To add one, add it with the digits its amounts are
 * written in; never change a listed currency's digits once a business uses it.
 */

/** Currencies whose minor unit has no digits: amounts are whole units (JPY, HUF, KRW…). */
const NONE =
  "AFN ALL BIF CLP COP DJF GNF HUF IDR IQD IRR ISK JPY KMF KPW KRW LAK LBP MGA MMK PKR PYG RWF SLL SOS SYP UGX VND VUV XAF XOF XPF YER";
/** Currencies with three digits (thousandths: fils, baisa, millime). */
const THREE = "BHD JOD KWD LYD OMR TND";
/** Currencies with two digits (cents). */
const TWO =
  "AED AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CNY CRC CUC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HRK HTG ILS INR JMD KES KGS KHR KYD KZT LKR LRD LSL MAD MDL MKD MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SRD SSP STN SVC SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD XCG XDR XSU ZAR ZMW ZWG ZWL";

const DIGITS: ReadonlyMap<string, number> = new Map([
  ...NONE.split(" ").map((code) => [code, 0] as const),
  ...TWO.split(" ").map((code) => [code, 2] as const),
  ...THREE.split(" ").map((code) => [code, 3] as const),
]);

/** Every accepted currency code, sorted. */
export const CURRENCY_CODES: readonly string[] = [...DIGITS.keys()].sort();

/** Whether `code` is a currency Regulars accepts (upper-case ISO 4217 code). */
export function isCurrency(code: string): boolean {
  return DIGITS.has(code);
}

/**
 * The digits of the currency's minor unit: 2 for EUR (cents), 0 for JPY and HUF, 3 for KWD; 2 for
 * a code not in the table (which the API refuses before any amount is read).
 */
export function currencyDigits(currency: string): number {
  return DIGITS.get(currency) ?? 2;
}
