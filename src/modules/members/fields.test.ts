import { describe, expect, it } from "vitest";
import { birthdayProblem, escapeLike, isoDate } from "./fields.ts";

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
