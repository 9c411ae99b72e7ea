import { describe, expect, it } from "vitest";
import { countryOfTimeZone, toE164 } from "../../src/cli/phone.ts";

/** Local phone numbers in a members file, read in the business's country. */

describe("toE164", () => {
  it.each([
    ["06 12345678", "NL", "+31612345678"],
    ["06-1234 5678", "NL", "+31612345678"],
    ["020 123 4567", "NL", "+31201234567"],
    // Excel reads 0612345678 as a number and drops its 0: nine digits are still a Dutch number.
    ["612345678", "NL", "+31612345678"],
    ["0470 12 34 56", "BE", "+32470123456"],
    ["02 123 45 67", "BE", "+3221234567"],
    ["0151 23456789", "DE", "+4915123456789"],
    ["030 1234567", "DE", "+49301234567"],
    ["512 345 678", "PL", "+48512345678"],
    ["512-345-678", "PL", "+48512345678"],
    // International numbers are read the same in every country, and without one.
    ["+48 512 345 678", "NL", "+48512345678"],
    ["0048 512 345 678", undefined, "+48512345678"],
    // The trunk 0 written after the calling code, as Dutch and German letterheads do.
    ["+31 (0)6 12345678", undefined, "+31612345678"],
    ["+49 (0)151 23456789", "PL", "+4915123456789"],
  ])("reads %s in %s as %s", (raw, country, phone) => {
    expect(toE164(raw, country)).toEqual({ phone });
  });

  it.each([
    [
      "06 1234567",
      "NL",
      "is not a Dutch number: after the leading 0 it has 8 digits, where a Dutch number has 9 (06 12345678). A number from abroad needs + and its country code.",
    ],
    [
      "12345678",
      "NL",
      "is not a Dutch number: it has 8 digits, where a Dutch number has 9 after the leading 0 (06 12345678). A number from abroad needs + and its country code.",
    ],
    [
      "151 23456789",
      "DE",
      "is not a German number: it lacks the leading 0 (0151 23456789). A number from abroad needs + and its country code.",
    ],
    [
      "0512 345 678",
      "PL",
      "is not a Polish number: it has 10 digits, where a Polish number has 9 (512 345 678). A number from abroad needs + and its country code.",
    ],
    [
      "06 12345678",
      undefined,
      "has no country code, and the business's country is not known: write it with + and the country code (+31 6 12345678), or name the country with --country (NL, BE, DE, PL).",
    ],
    ["06 1234 5678 ext 2", "NL", "is not a phone number: only digits, spaces, dashes, dots and parentheses."],
    ["+31 6", "NL", "is not a phone number: + and the country code, then 7–15 digits in all."],
  ])("refuses %s in %s", (raw, country, problem) => {
    expect(toE164(raw, country)).toEqual({ problem });
  });
});

describe("countryOfTimeZone", () => {
  it("names the country of a Dutch, Belgian, German or Polish time zone, and no other", () => {
    expect(
      ["Europe/Amsterdam", "Europe/Brussels", "Europe/Berlin", "Europe/Warsaw", "America/Sao_Paulo"].map(
        countryOfTimeZone,
      ),
    ).toEqual(["NL", "BE", "DE", "PL", undefined]);
  });
});
