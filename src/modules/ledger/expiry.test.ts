import { describe, expect, it } from "vitest";
import { expiresAt } from "./expiry.ts";

describe("expiresAt", () => {
  it.each([
    ["never", { policy: "never" as const }, "2026-03-15T10:00:00Z", "UTC", null],
    [
      "90 days after earning",
      { policy: "days_after_earn" as const, days: 90 },
      "2026-03-15T10:00:00Z",
      "UTC",
      "2026-06-13T10:00:00.000Z",
    ],
    [
      "end of the same month",
      { policy: "end_of_month" as const, months_after: 0 },
      "2026-03-15T10:00:00Z",
      "UTC",
      "2026-04-01T00:00:00.000Z",
    ],
    [
      "end of the month a year later",
      { policy: "end_of_month" as const, months_after: 12 },
      "2026-03-15T10:00:00Z",
      "UTC",
      "2027-04-01T00:00:00.000Z",
    ],
    [
      "end of December rolls into January",
      { policy: "end_of_month" as const, months_after: 0 },
      "2026-12-31T22:00:00Z",
      "UTC",
      "2027-01-01T00:00:00.000Z",
    ],
    [
      "end of month on Amsterdam's clock",
      { policy: "end_of_month" as const, months_after: 0 },
      "2026-03-31T22:30:00Z",
      "Europe/Amsterdam",
      "2026-04-30T22:00:00.000Z",
    ],
    [
      "end of the year",
      { policy: "end_of_year" as const, years_after: 0 },
      "2026-05-01T00:00:00Z",
      "Europe/Warsaw",
      "2026-12-31T23:00:00.000Z",
    ],
    [
      "end of next year",
      { policy: "end_of_year" as const, years_after: 1 },
      "2026-05-01T00:00:00Z",
      "America/Sao_Paulo",
      "2028-01-01T03:00:00.000Z",
    ],
  ])("%s", (_name, policy, earned, zone, expected) => {
    const result = expiresAt(new Date(earned), policy, zone);
    expect(result === null ? null : result.toISOString()).toBe(expected);
  });
});
