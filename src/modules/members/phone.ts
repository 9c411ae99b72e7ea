/**
 * Members' phone numbers, stored as E.164 (`+31612345678`) so that lookups and the uniqueness of a
 * phone per business mean what they should. People type numbers as they dial them at home
 * ("06 12345678" in the Netherlands, "512 345 678" in Poland): a café's customers on the join
 * page, its staff at the counter, the shop's till export in an import. Where the business is tells
 * which country a local number belongs to, so the API and the import read a local number of the
 * business's country — only when its length leaves no doubt, by a few rules per country: the
 * calling code, the trunk prefix 0 (dropped after the calling code too, as in "+31 (0)6 …") and
 * the length of the national number. Elsewhere only international numbers are taken: guessing the
 * country would merge two customers' numbers. A full library (libphonenumber-js, with number
 * ranges for every country) would validate more than this needs: to read a local number without
 * doubt, four countries' calling codes, trunk prefixes and lengths are enough, and a number that
 * cannot be placed is refused.
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
 * The country whose local numbers a business's customers and staff type: its time zone says where
 * the shop is (its locale does not: "nl" is spoken in Belgium, "en" anywhere).
 *
 * @example countryOfTimeZone("Europe/Warsaw") // "PL"
 */
export function countryOfTimeZone(timeZone: string): string | undefined {
  return TIME_ZONE_COUNTRIES[timeZone];
}

/** E.164 allows at most 15 digits; fewer than 7 is never a reachable international number. */
const PHONE_DIGITS_MIN = 7;
const PHONE_DIGITS_MAX = 15;
// Separators people write inside phone numbers; anything else (letters, "ext", a second "+") is refused.
const SEPARATORS = /[\s().\-/]/g;

/**
 * `raw` without a trunk 0 written in parentheses straight after the calling code: "+44 (0)20 …"
 * is "+44 20 …" in every country that writes it so (the UK, France, Switzerland, Austria, the
 * Netherlands…); the 0 is what one dials at home, never part of the number.
 */
function withoutParenthesizedTrunk(raw: string): string {
  return raw.trim().replace(/^(\+|00)\s*(\d{1,3})\s*\(\s*0\s*\)/, "$1$2");
}

/**
 * An international number in E.164 form (`+` and digits), or null when it cannot be one. Spaces,
 * dashes, dots, slashes and parentheses are dropped; a leading `00` is read as `+`; a trunk 0
 * written after the calling code ("+44 (0)20 …", or "+31 06 …" for a known country) is dropped. A
 * number without its country code is null: `toE164` reads one in a country.
 *
 * @example normalizePhone("+31 (6) 1234-5678") // "+31612345678"
 * @example normalizePhone("+31 (0)6 12345678") // "+31612345678"
 * @example normalizePhone("+44 (0)20 7946 0958") // "+442079460958"
 */
export function normalizePhone(raw: string): string | null {
  const compact = withoutParenthesizedTrunk(raw).replace(SEPARATORS, "");
  const international = withoutTrunkZero(compact.startsWith("00") ? `+${compact.slice(2)}` : compact);
  const match = /^\+([1-9]\d*)$/.exec(international);
  if (!match?.[1]) return null;
  const digits = match[1].length;
  return digits >= PHONE_DIGITS_MIN && digits <= PHONE_DIGITS_MAX ? international : null;
}

/**
 * A phone number as E.164, or why it cannot be one (a sentence to follow the column and value, as
 * the import reports it). International numbers (+ or 00) are read the same everywhere (see
 * `normalizePhone`); a local number is read in `country` (a key of PHONE_COUNTRIES), or refused
 * without one.
 *
 * @example toE164("06 12345678", "NL") // { phone: "+31612345678" }
 * @example toE164("512 345 678", "PL") // { phone: "+48512345678" }
 */
export function toE164(raw: string, country: string | undefined): { phone: string } | { problem: string } {
  const compact = withoutParenthesizedTrunk(raw).replace(SEPARATORS, "");
  if (isInternational(compact)) {
    const phone = normalizePhone(compact);
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

/** What the API says of a phone it cannot read in a business without local numbers. */
export const INTERNATIONAL_ONLY =
  "must be an international number: + and the country code, then 7–15 digits in all";

/**
 * A phone number typed into the API (enrolment, the join page, a change, a lookup) as E.164, read
 * in the country of the business's time zone; or why not, as a message to follow the field's
 * name. It says what to write: the local form of the business's country, or + and the country
 * code (the only form taken where local numbers cannot be read).
 *
 * @example readPhone("06-12345678", "Europe/Amsterdam") // { phone: "+31612345678" }
 * @example readPhone("12345", "Europe/Amsterdam") // { problem: "must be a Dutch number (06 12345678) or start with + and the country code" }
 */
export function readPhone(raw: string, timeZone: string): { phone: string } | { problem: string } {
  const country = countryOfTimeZone(timeZone);
  const read = toE164(raw, country);
  if ("phone" in read) return read;
  const rules = country ? PHONE_COUNTRIES[country] : undefined;
  if (!rules || isInternational(raw.trim().replace(SEPARATORS, ""))) return { problem: INTERNATIONAL_ONLY };
  return {
    problem: `must be a ${rules.adjective} number (${rules.example}) or start with + and the country code`,
  };
}

/**
 * What a search that reads as a phone number, or a part of one, looks for in the members' search
 * texts (src/modules/members/search.ts), which hold each number as stored (E.164) and as dialled
 * at home with the trunk 0 (`dialledAtHome`): its digits as written ("(030) 12345" → "03012345",
 * "601-234" → "601234"); or, written with + or 00 and the country code, "+", the code and what
 * follows, without a trunk 0 a caller from abroad may write ("+31 (0)6 12", "0031 6 12", "+31 06
 * 12" → "+31612"), which only the start of a stored number matches. Nothing for a text that is not
 * one, or with fewer than 3 digits (so "1" does not match half the members).
 *
 * @example phoneSearchDigits("(030) 1234567") // "0301234567"
 * @example phoneSearchDigits("0031 6 12") // "+31612"
 */
export function phoneSearchDigits(q: string): string | undefined {
  const compact = withoutParenthesizedTrunk(q).replace(SEPARATORS, "");
  if (!/^\+?\d{3,15}$/.test(compact)) return undefined;
  const digits = compact.replace("+", "");
  if (!isInternational(compact)) return digits;
  const international = compact.startsWith("00") ? digits.slice(2) : digits;
  return international ? withoutTrunkZero(`+${international}`, true) : undefined;
}

/**
 * An E.164 number as dialled in its own country with the trunk 0, for the countries whose local
 * numbers have one (the Netherlands, Belgium, Germany); undefined elsewhere.
 *
 * @example dialledAtHome("+49301234567") // "0301234567"
 */
export function dialledAtHome(phone: string): string | undefined {
  for (const rules of Object.values(PHONE_COUNTRIES)) {
    const prefix = `+${rules.callingCode}`;
    if (rules.trunkZero && phone.startsWith(prefix)) return `0${phone.slice(prefix.length)}`;
  }
  return undefined;
}

/** A number written with + or 00 in front: its country code is in it. */
function isInternational(compact: string): boolean {
  return compact.startsWith("+") || compact.startsWith("00");
}

/**
 * `+310612345678` → `+31612345678` for a known country whose national numbers never start with 0:
 * the whole number when its length fits, or (`partial`, for a search) any start of one.
 */
function withoutTrunkZero(international: string, partial = false): string {
  for (const rules of Object.values(PHONE_COUNTRIES)) {
    const prefix = `+${rules.callingCode}0`;
    if (!rules.trunkZero || !international.startsWith(prefix)) continue;
    const national = international.slice(prefix.length);
    if (partial || rules.lengths.includes(national.length)) return `+${rules.callingCode}${national}`;
  }
  return international;
}
