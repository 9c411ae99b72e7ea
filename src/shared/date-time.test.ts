import { describe, expect, it } from "vitest";
import { dateTimeInput } from "./date-time.ts";

describe("dateTimeInput", () => {
  it.each([
    ["1900-01-01T00:00:00Z", true],
    ["1900-01-01T00:00:00+01:00", false],
    ["1899-12-31T23:59:59.999Z", false],
    ["0000-01-01T00:00:00Z", false],
    ["2026-03-02T09:00:00+01:00", true],
    ["9999-12-31T23:59:59.999Z", true],
    ["9999-12-31T23:59:59-00:01", false],
    ["9999-12-31T23:59:59-12:00", false],
    ["2026-03-02T09:00:00", false],
    ["2026-02-30T09:00:00Z", false],
    ["yesterday", false],
  ])("takes %s: %s", (value, ok) => {
    expect(dateTimeInput().safeParse(value).success).toBe(ok);
  });

  it("says what span it takes", () => {
    const result = dateTimeInput().safeParse("0000-01-01T00:00:00Z");
    expect(result.error?.issues.map((i) => i.message)).toEqual([
      "must be from 1900-01-01T00:00:00Z to 9999-12-31T23:59:59Z",
    ]);
  });
});
