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

describe("expiresAt after a pending period", () => {
  const pendingWeek = (earned: string) => new Date(new Date(earned).getTime() + 7 * 86_400_000);
  it.each([
    // [policy, earned, expires]: a month or a year counts from when the points can be spent.
    [
      { policy: "end_of_month" as const, months_after: 0 },
      "2026-03-30T10:00:00Z",
      "2026-05-01T00:00:00.000Z",
    ],
    [
      { policy: "end_of_month" as const, months_after: 0 },
      "2026-03-10T10:00:00Z",
      "2026-04-01T00:00:00.000Z",
    ],
    [{ policy: "end_of_year" as const, years_after: 0 }, "2026-12-28T10:00:00Z", "2028-01-01T00:00:00.000Z"],
    // Days count from the earning: the program refuses a pending period as long as them.
    [{ policy: "days_after_earn" as const, days: 30 }, "2026-03-30T10:00:00Z", "2026-04-29T10:00:00.000Z"],
  ])("%o, earned %s → %s", (policy, earned, expected) => {
    const at = new Date(earned);
    const expires = expiresAt(at, policy, "UTC", pendingWeek(earned));
    expect(expires?.toISOString()).toBe(expected);
    // Never before the points can be spent.
    expect((expires as Date).getTime()).toBeGreaterThan(pendingWeek(earned).getTime());
  });
});
