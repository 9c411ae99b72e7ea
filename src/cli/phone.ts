import { normalizePhone } from "../modules/members/index.ts";

/**
 * Local phone numbers in an import. Members' files from a shop's till or address book hold
 * numbers as people dial them at home ("06 12345678" in the Netherlands, "512 345 678" in
 * Poland); the API stores E.164 only and refuses to guess a country. The import knows the
 * country (the business's, or `--country`), so it rewrites a local number of that country to
 * E.164 — only when its length leaves no doubt, by a few rules per country: the calling code, the
 * trunk prefix 0 (dropped after the calling code too, as in "+31 (0)6 …") and the length of the
 * national number. A full library (libphonenumber-js, with number ranges for every country) would
 * validate more than the import needs: to read a local number without doubt, four countries'
 * calling codes, trunk prefixes and lengths are enough, and a number it cannot place is refused.
 */

export interface PhoneCountry {
  /** The country calling code, without +. */
  callingCode: string;
  /** Local numbers start with the trunk prefix 0, which E.164 drops. */
  trunkZero: boolean;
  /** Lengths of the national number (after the trunk prefix). */
  lengths: readonly number[];
  /**
   * The national number alone (its leading 0 lost, as Excel does to a number it reads as a
   * number) is still this country's: only where the length is fixed, so it cannot be confused.
   */
  zeroMayBeLost: boolean;
  /** How a local number is written there, for messages. */
  example: string;
  adjective: string;
}

export const PHONE_COUNTRIES: Record<string, PhoneCountry> = {
  NL: {
    callingCode: "31",
    trunkZero: true,
    lengths: [9],
    zeroMayBeLost: true,
    example: "06 12345678",
    adjective: "Dutch",
  },
  BE: {
    callingCode: "32",
    trunkZero: true,
    lengths: [8, 9],
    zeroMayBeLost: true,
    example: "0470 12 34 56",
    adjective: "Belgian",
  },
  // German national numbers are 6 to 11 digits long: without the 0 one cannot tell them apart
  // from other numbers, so the 0 is required.
  DE: {
    callingCode: "49",
    trunkZero: true,
    lengths: [6, 7, 8, 9, 10, 11],
    zeroMayBeLost: false,
    example: "0151 23456789",
    adjective: "German",
  },
  PL: {
    callingCode: "48",
    trunkZero: false,
    lengths: [9],
    zeroMayBeLost: false,
    example: "512 345 678",
    adjective: "Polish",
  },
};

/** The country of a business's time zone, when local numbers can be read for it. */
const TIME_ZONE_COUNTRIES: Record<string, string> = {
  "Europe/Amsterdam": "NL",
  "Europe/Brussels": "BE",
  "Europe/Berlin": "DE",
  "Europe/Busingen": "DE",
  "Europe/Warsaw": "PL",
};

/**
 * The country whose local numbers a business's members file holds: its time zone says where the
 * shop is (its locale does not: "nl" is spoken in Belgium, "en" anywhere).
 *
 * @example countryOfTimeZone("Europe/Warsaw") // "PL"
 */
export function countryOfTimeZone(timeZone: string): string | undefined {
  return TIME_ZONE_COUNTRIES[timeZone];
}

const SEPARATORS = /[\s().\-/]/g;

/**
 * A phone number as E.164, or why it cannot be one (a sentence to follow the column and value).
 * International numbers (+ or 00) pass as the API reads them, a trunk 0 after a known calling code
 * dropped; a local number is read in `country` (a key of PHONE_COUNTRIES), or refused without one.
 *
 * @example toE164("06 12345678", "NL") // { phone: "+31612345678" }
 * @example toE164("512 345 678", "PL") // { phone: "+48512345678" }
 */
export function toE164(raw: string, country: string | undefined): { phone: string } | { problem: string } {
  const compact = raw.trim().replace(SEPARATORS, "");
  if (compact.startsWith("+") || compact.startsWith("00")) {
    const phone = normalizePhone(withoutTrunkZero(compact.replace(/^00/, "+")));
    return phone
      ? { phone }
      : { problem: "is not a phone number: + and the country code, then 7–15 digits in all." };
  }
  if (!/^\d+$/.test(compact)) {
    return { problem: "is not a phone number: only digits, spaces, dashes, dots and parentheses." };
  }
  const rules = country ? PHONE_COUNTRIES[country] : undefined;
  if (!country || !rules) {
    return {
      problem: `has no country code, and the business's country is not known: write it with + and the country code (+31 6 12345678), or name the country with --country (${Object.keys(PHONE_COUNTRIES).join(", ")}).`,
    };
  }
  const lengths =
    rules.lengths.length === 1 ? String(rules.lengths[0]) : `${rules.lengths[0]} to ${rules.lengths.at(-1)}`;
  const national = rules.trunkZero && compact.startsWith("0") ? compact.slice(1) : compact;
  const fits = rules.lengths.includes(national.length) && !national.startsWith("0");
  if (rules.trunkZero && compact.startsWith("0")) {
    if (fits) return { phone: `+${rules.callingCode}${national}` };
    return {
      problem: `is not a ${rules.adjective} number: after the leading 0 it has ${national.length} digits, where a ${rules.adjective} number has ${lengths} (${rules.example}). A number from abroad needs + and its country code.`,
    };
  }
  if (rules.trunkZero && !rules.zeroMayBeLost) {
    return {
      problem: `is not a ${rules.adjective} number: it lacks the leading 0 (${rules.example}). A number from abroad needs + and its country code.`,
    };
  }
  if (fits) return { phone: `+${rules.callingCode}${national}` };
  return {
    problem: `is not a ${rules.adjective} number: it has ${compact.length} digits, where a ${rules.adjective} number has ${rules.trunkZero ? `${lengths} after the leading 0` : lengths} (${rules.example}). A number from abroad needs + and its country code.`,
  };
}

/** `+310612345678` → `+31612345678` for a known country whose numbers never start with 0. */
function withoutTrunkZero(international: string): string {
  for (const rules of Object.values(PHONE_COUNTRIES)) {
    const prefix = `+${rules.callingCode}0`;
    if (!rules.trunkZero || !international.startsWith(prefix)) continue;
    const national = international.slice(prefix.length);
    if (rules.lengths.includes(national.length)) return `+${rules.callingCode}${national}`;
  }
  return international;
}
