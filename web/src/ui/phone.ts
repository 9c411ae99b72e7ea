/**
 * How a local phone number is written in the business's country, for the hint by a phone field:
 * the API reads a number without its country code as one of the business's country when that is
 * the Netherlands, Belgium, Germany or Poland (by the business's time zone), and takes only
 * international numbers elsewhere (null here). The server's rules are in
 * src/modules/members/phone.ts; test/web/phone.test.ts keeps this list the same as theirs.
 *
 * @example localPhoneExample("Europe/Amsterdam") // "06 12345678"
 */
export function localPhoneExample(timeZone: string): string | null {
  return LOCAL_EXAMPLES[timeZone] ?? null;
}

const LOCAL_EXAMPLES: Record<string, string> = {
  "Europe/Amsterdam": "06 12345678",
  "Europe/Brussels": "0470 12 34 56",
  "Europe/Berlin": "0151 23456789",
  "Europe/Busingen": "0151 23456789",
  "Europe/Warsaw": "512 345 678",
};
