import { describe, expect, it } from "vitest";
import { birthdayProblem, escapeLike, isoDate, normalizePhone, phoneSearchDigits } from "./fields.ts";

describe("normalizePhone", () => {
  it.each([
    ["+31612345678", "+31612345678"],
    ["+31 6 12345678", "+31612345678"],
    ["  +31 (6) 1234-5678 ", "+31612345678"],
    ["+48.601.234.567", "+48601234567"],
    ["+1 415/555 0100", "+14155550100"],
    ["0031 6 12345678", "+31612345678"],
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

describe("birthdayProblem", () => {
  const today = "2026-03-02";
  it.each([
    ["1900-01-01", null],
    ["1985-07-14", null],
    ["2026-03-02", null],
    ["1899-12-31", "must not be before 1900-01-01"],
    ["2026-03-03", "must not be in the future"],
  ])("judges %s as %j", (birthday, expected) => {
    expect(birthdayProblem(birthday, today)).toBe(expected);
  });
});

describe("isoDate", () => {
  it("pads month, day and year", () => {
    expect(isoDate({ year: 2026, month: 3, day: 2 })).toBe("2026-03-02");
    expect(isoDate({ year: 999, month: 12, day: 31 })).toBe("0999-12-31");
  });
});

describe("escapeLike", () => {
  it.each([
    ["anna", "anna"],
    ["100%", "100\\%"],
    ["a_b", "a\\_b"],
    ["back\\slash", "back\\\\slash"],
  ])("escapes %j as %j", (text, expected) => {
    expect(escapeLike(text)).toBe(expected);
  });
});

describe("phoneSearchDigits", () => {
  it.each([
    ["+31 6 12", "31612"],
    ["0612", "0612"],
    ["601-234", "601234"],
    ["12", null],
    ["anna", null],
    ["+31 6 1234 5678 99999", null],
  ])("reads %j as %j", (q, expected) => {
    expect(phoneSearchDigits(q)).toBe(expected);
  });
});
