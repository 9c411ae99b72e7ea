import { describe, expect, it } from "vitest";
import { dialledAtHome, INTERNATIONAL_ONLY, normalizePhone, phoneSearchDigits, readPhone } from "./phone.ts";

// toE164 and countryOfTimeZone, as the import reads a members file: test/cli/phone.test.ts.

describe("normalizePhone", () => {
  it.each([
    ["+31612345678", "+31612345678"],
    ["+31 6 12345678", "+31612345678"],
    ["  +31 (6) 1234-5678 ", "+31612345678"],
    ["+48.601.234.567", "+48601234567"],
    ["+1 415/555 0100", "+14155550100"],
    ["0031 6 12345678", "+31612345678"],
    // The trunk 0 written after the calling code is no digit of the number.
    ["+31 (0)6 12345678", "+31612345678"],
    ["0032 (0)470 12 34 56", "+32470123456"],
    // In every country that writes it so, not only the ones whose numbers we know.
    ["+44 (0)20 7946 0958", "+442079460958"],
    ["+33 (0)6 12 34 56 78", "+33612345678"],
    ["+41(0)79 123 45 67", "+41791234567"],
    ["0043 ( 0 ) 664 1234567", "+436641234567"],
    ["+1234567", "+1234567"], // 7 digits: the shortest accepted
    ["+123456789012345", "+123456789012345"], // 15 digits: the E.164 maximum
  ])("normalizes %j to %j", (raw, expected) => {
    expect(normalizePhone(raw)).toBe(expected);
  });

  it.each([
    ["", "empty"],
    ["06 12345678", "no country code"],
    ["612345678", "no country code"],
    ["+0612345678", "country code starting with 0"],
    ["+123456", "6 digits: too short"],
    ["+1234567890123456", "16 digits: too long"],
    ["+31 6 1234 ext 5", "letters"],
    ["+31+612345678", "a second plus"],
    ["++31612345678", "a doubled plus"],
    ["+31_612345678", "an underscore"],
    ["+", "only a plus"],
  ])("refuses %j (%s)", (raw) => {
    expect(normalizePhone(raw)).toBeNull();
  });
});

describe("readPhone", () => {
  it.each([
    ["06 12345678", "Europe/Amsterdam", "+31612345678"],
    ["06-12345678", "Europe/Amsterdam", "+31612345678"],
    ["+31 (0)6 12345678", "Europe/Amsterdam", "+31612345678"],
    ["+31 (0)6 12345678", "America/New_York", "+31612345678"],
    ["0470 12 34 56", "Europe/Brussels", "+32470123456"],
    ["0151 23456789", "Europe/Berlin", "+4915123456789"],
    ["512 345 678", "Europe/Warsaw", "+48512345678"],
    ["+48 512 345 678", "Europe/Amsterdam", "+48512345678"],
  ])("reads %j in %s as %s", (raw, timeZone, phone) => {
    expect(readPhone(raw, timeZone)).toEqual({ phone });
  });

  it.each([
    [
      "12345",
      "Europe/Amsterdam",
      "must be a Dutch number (06 12345678) or start with + and the country code",
    ],
    [
      "06 CALL ME",
      "Europe/Amsterdam",
      "must be a Dutch number (06 12345678) or start with + and the country code",
    ],
    [
      "0512 345 678",
      "Europe/Warsaw",
      "must be a Polish number (512 345 678) or start with + and the country code",
    ],
    [
      "151 23456789",
      "Europe/Berlin",
      "must be a German number (0151 23456789) or start with + and the country code",
    ],
    // Written with + (or 00): it was meant as an international number, and is not one.
    ["+31 6", "Europe/Amsterdam", INTERNATIONAL_ONLY],
    // Outside the Netherlands, Belgium, Germany and Poland a local number cannot be placed.
    ["06 12345678", "America/Sao_Paulo", INTERNATIONAL_ONLY],
    ["(415) 555-0100", "America/New_York", INTERNATIONAL_ONLY],
  ])("refuses %j in %s", (raw, timeZone, problem) => {
    expect(readPhone(raw, timeZone)).toEqual({ problem });
  });
});

describe("phoneSearchDigits", () => {
  it.each([
    ["+31 6 12", "+31612"],
    ["601-234", "601234"],
    // As dialled at home, the area code in parentheses or not: the digits as written.
    ["06 12", "0612"],
    ["(030) 1234567", "0301234567"],
    ["(030) 12345", "03012345"],
    ["(06) 12345678", "0612345678"],
    // From abroad with 00, or with the trunk 0 after the calling code: the start of the number.
    ["0031 6 12", "+31612"],
    ["+31 (0)6 12", "+31612"],
    ["+31 06 12", "+31612"],
    ["+49 (0)30 123", "+4930123"],
    ["12", undefined],
    ["anna", undefined],
    ["+31 6 1234 5678 99999", undefined],
  ])("reads %j as %j", (q, expected) => {
    expect(phoneSearchDigits(q)).toEqual(expected);
  });
});

describe("dialledAtHome", () => {
  it.each([
    ["+31612345678", "0612345678"],
    ["+49301234567", "0301234567"],
    ["+3247012345", "047012345"],
    // Polish numbers have no trunk 0; other countries' are not known.
    ["+48512345678", undefined],
    ["+442079460958", undefined],
  ])("writes %s as %j", (phone, expected) => {
    expect(dialledAtHome(phone)).toEqual(expected);
  });
});
