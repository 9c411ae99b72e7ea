import { describe, expect, it } from "vitest";
import { expiresAt } from "./expiry.ts";

// "End of month/year" is the first instant of the next month/year on the business's clock, also
// where that day's DST starts at midnight (Asunción 1 Oct 2023 and Santiago 6 Sep 2026 start at
// 01:00: 00:00–00:59 does not exist) and in a zone with a 30-minute DST shift.
describe("expiresAt across time zones and DST changes", () => {
  it.each([
    [
      "Asunción: September ends where 1 October starts, at 01:00",
      { policy: "end_of_month" as const, months_after: 0 },
      "2023-09-15T12:00:00Z",
      "America/Asuncion",
      "2023-10-01T04:00:00.000Z",
    ],
    [
      "Asunción: the last second of September still counts",
      { policy: "end_of_month" as const, months_after: 0 },
      "2023-10-01T03:59:59Z",
      "America/Asuncion",
      "2023-10-01T04:00:00.000Z",
    ],
    [
      "Asunción: end of month a month later",
      { policy: "end_of_month" as const, months_after: 1 },
      "2023-08-20T12:00:00Z",
      "America/Asuncion",
      "2023-10-01T04:00:00.000Z",
    ],
    [
      "Asunción: end of year",
      { policy: "end_of_year" as const, years_after: 0 },
      "2023-10-01T12:00:00Z",
      "America/Asuncion",
      "2024-01-01T03:00:00.000Z",
    ],
    [
      "Santiago: end of August, into a September that starts normally",
      { policy: "end_of_month" as const, months_after: 0 },
      "2026-08-15T12:00:00Z",
      "America/Santiago",
      "2026-09-01T04:00:00.000Z",
    ],
    [
      "Santiago: end of year",
      { policy: "end_of_year" as const, years_after: 0 },
      "2026-09-06T12:00:00Z",
      "America/Santiago",
      "2027-01-01T03:00:00.000Z",
    ],
    [
      "Amsterdam: end of March, after the gap",
      { policy: "end_of_month" as const, months_after: 0 },
      "2026-03-29T12:00:00Z",
      "Europe/Amsterdam",
      "2026-03-31T22:00:00.000Z",
    ],
    [
      "Amsterdam: end of October, after the overlap",
      { policy: "end_of_month" as const, months_after: 0 },
      "2026-10-25T12:00:00Z",
      "Europe/Amsterdam",
      "2026-10-31T23:00:00.000Z",
    ],
    [
      "Amsterdam: end of year",
      { policy: "end_of_year" as const, years_after: 0 },
      "2026-10-25T12:00:00Z",
      "Europe/Amsterdam",
      "2026-12-31T23:00:00.000Z",
    ],
    [
      "Lord Howe: end of the month of the 30-minute gap",
      { policy: "end_of_month" as const, months_after: 0 },
      "2026-10-04T00:00:00Z",
      "Australia/Lord_Howe",
      "2026-10-31T13:00:00.000Z",
    ],
    [
      "Lord Howe: end of the month of the 30-minute overlap",
      { policy: "end_of_month" as const, months_after: 0 },
      "2026-04-05T00:00:00Z",
      "Australia/Lord_Howe",
      "2026-04-30T13:30:00.000Z",
    ],
    [
      "Lord Howe: end of year",
      { policy: "end_of_year" as const, years_after: 0 },
      "2026-04-05T00:00:00Z",
      "Australia/Lord_Howe",
      "2026-12-31T13:00:00.000Z",
    ],
    [
      "Amsterdam: 30 days after 23:30 on 1 March is 23:30 on 31 March, summer time",
      { policy: "days_after_earn" as const, days: 30 },
      "2026-03-01T22:30:00.123Z",
      "Europe/Amsterdam",
      "2026-03-31T21:30:00.123Z",
    ],
    [
      "Warsaw: 30 days after 00:30 on 2 October is 00:30 on 1 November, winter time",
      { policy: "days_after_earn" as const, days: 30 },
      "2026-10-01T22:30:00Z",
      "Europe/Warsaw",
      "2026-10-31T23:30:00.000Z",
    ],
    [
      "Amsterdam: a day after 02:30 on 28 March is the first instant after the gap on the 29th",
      { policy: "days_after_earn" as const, days: 1 },
      "2026-03-28T01:30:00Z",
      "Europe/Amsterdam",
      "2026-03-29T01:00:00.000Z",
    ],
    [
      "Amsterdam: 365 days, within winter time, is 365 × 24 hours",
      { policy: "days_after_earn" as const, days: 365 },
      "2026-01-10T08:00:00Z",
      "Europe/Amsterdam",
      "2027-01-10T08:00:00.000Z",
    ],
    [
      "UTC: end of September",
      { policy: "end_of_month" as const, months_after: 0 },
      "2023-09-15T12:00:00Z",
      "UTC",
      "2023-10-01T00:00:00.000Z",
    ],
    [
      "UTC: end of year",
      { policy: "end_of_year" as const, years_after: 0 },
      "2023-09-15T12:00:00Z",
      "UTC",
      "2024-01-01T00:00:00.000Z",
    ],
  ])("%s", (_name, policy, earned, zone, expected) => {
    expect(expiresAt(new Date(earned), policy, zone)?.toISOString()).toBe(expected);
  });
});
