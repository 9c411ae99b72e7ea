/**
 * Local phone numbers in an import ("06 12345678" in a Dutch shop's till export) are read by the
 * members module's rules, the same the API reads a number typed at the counter or on the join
 * page with (src/modules/members/phone.ts). The import knows the country: the business's, or
 * `--country`.
 */
export { countryOfTimeZone, PHONE_COUNTRIES, type PhoneCountry, toE164 } from "../modules/members/phone.ts";
