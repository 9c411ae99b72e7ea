import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addLocalDays } from "../../shared/time.ts";
import type { ExpiryPolicy } from "../program/config.ts";
import { expiresAt, lotPolicy, rezonedExpiry } from "./expiry.ts";

const at = (iso: string) => new Date(iso);

/** A lot earned at `earned` (released `pendingDays` later) under `policy` on the clock of `zone`. */
function lotIn(earned: string | Date, policy: ExpiryPolicy, zone: string, pendingDays = 0) {
  const earnedAt = typeof earned === "string" ? at(earned) : earned;
  const availableAt = pendingDays > 0 ? addLocalDays(earnedAt, pendingDays, zone) : earnedAt;
  const expires = expiresAt(earnedAt, policy, zone, availableAt);
  if (!expires) throw new Error("a lot with an expiry");
  return { earned_at: earnedAt, available_at: availableAt, expires_at: expires };
}

const MONTH_END = { policy: "end_of_month", months_after: 0 } as const;

describe("rezonedExpiry", () => {
  it.each([
    [
      "end of April: midnight Amsterdam becomes midnight Lisbon, an hour later",
      lotIn("2026-04-15T10:00:00Z", MONTH_END, "Europe/Amsterdam"),
      MONTH_END,
      ["Europe/Amsterdam", "Europe/Lisbon"],
      "2026-04-20T12:00:00Z",
      { outcome: "moved", expires_at: at("2026-04-30T23:00:00Z") },
    ],
    [
      "end of April: midnight Lisbon becomes midnight Amsterdam, an hour earlier",
      lotIn("2026-04-15T10:00:00Z", MONTH_END, "Europe/Lisbon"),
      MONTH_END,
      ["Europe/Lisbon", "Europe/Amsterdam"],
      "2026-04-20T12:00:00Z",
      { outcome: "moved", expires_at: at("2026-04-30T22:00:00Z") },
    ],
    [
      "end of year, two years on, in winter time",
      lotIn("2026-06-01T10:00:00Z", { policy: "end_of_year", years_after: 2 }, "Europe/Amsterdam"),
      { policy: "end_of_year", years_after: 2 } as const,
      ["Europe/Amsterdam", "Europe/Lisbon"],
      "2026-06-02T00:00:00Z",
      { outcome: "moved", expires_at: at("2029-01-01T00:00:00Z") },
    ],
    [
      "30 days between zones whose summer time starts the same day: the same instant",
      lotIn("2026-03-15T12:00:00Z", { policy: "days_after_earn", days: 30 }, "Europe/Amsterdam"),
      { policy: "days_after_earn", days: 30 } as const,
      ["Europe/Amsterdam", "Europe/Lisbon"],
      "2026-03-16T00:00:00Z",
      { outcome: "same" },
    ],
    [
      "14 days over Amsterdam's start of summer time but not New York's (started earlier): an hour later",
      lotIn("2026-03-20T12:00:00Z", { policy: "days_after_earn", days: 14 }, "Europe/Amsterdam"),
      { policy: "days_after_earn", days: 14 } as const,
      ["Europe/Amsterdam", "America/New_York"],
      "2026-03-21T00:00:00Z",
      { outcome: "moved", expires_at: at("2026-04-03T12:00:00Z") },
    ],
    [
      "a month counted from the release after 7 days pending, on the new clock",
      lotIn("2026-03-30T10:00:00Z", MONTH_END, "Europe/Amsterdam", 7),
      MONTH_END,
      ["Europe/Amsterdam", "Europe/Lisbon"],
      "2026-04-01T00:00:00Z",
      { outcome: "moved", expires_at: at("2026-04-30T23:00:00Z") },
    ],
    [
      "moving east at 23:30 on 31 March, Lisbon time: Amsterdam's midnight has passed, the lot keeps Lisbon's",
      lotIn("2026-03-10T10:00:00Z", MONTH_END, "Europe/Lisbon"),
      MONTH_END,
      ["Europe/Lisbon", "Europe/Amsterdam"],
      "2026-03-31T22:30:00Z",
      { outcome: "passed", expires_at: at("2026-03-31T22:00:00Z") },
    ],
    [
      "moving east exactly at Amsterdam's midnight: passed too (an expiry at now is due)",
      lotIn("2026-03-10T10:00:00Z", MONTH_END, "Europe/Lisbon"),
      MONTH_END,
      ["Europe/Lisbon", "Europe/Amsterdam"],
      "2026-03-31T22:00:00Z",
      { outcome: "passed", expires_at: at("2026-03-31T22:00:00Z") },
    ],
    [
      "moving east a millisecond before Amsterdam's midnight: moved",
      lotIn("2026-03-10T10:00:00Z", MONTH_END, "Europe/Lisbon"),
      MONTH_END,
      ["Europe/Lisbon", "Europe/Amsterdam"],
      "2026-03-31T21:59:59.999Z",
      { outcome: "moved", expires_at: at("2026-03-31T22:00:00Z") },
    ],
    [
      "released at 00:30 on 1 April in Amsterdam, 31 March in Lisbon: the end of March, while still ahead",
      lotIn("2026-03-31T22:30:00Z", MONTH_END, "Europe/Amsterdam"),
      MONTH_END,
      ["Europe/Amsterdam", "Europe/Lisbon"],
      "2026-03-31T22:45:00Z",
      { outcome: "moved", expires_at: at("2026-03-31T23:00:00Z") },
    ],
    [
      "the same lot days later: the end of March has passed, it keeps the end of April",
      lotIn("2026-03-31T22:30:00Z", MONTH_END, "Europe/Amsterdam"),
      MONTH_END,
      ["Europe/Amsterdam", "Europe/Lisbon"],
      "2026-04-10T00:00:00Z",
      { outcome: "passed", expires_at: at("2026-03-31T23:00:00Z") },
    ],
    [
      "earned under an earlier policy (end of the month after next, now 'never'): that policy, on the new clock",
      lotIn("2026-04-15T10:00:00Z", { policy: "end_of_month", months_after: 2 }, "Europe/Amsterdam"),
      { policy: "never" } as const,
      ["Europe/Amsterdam", "Europe/Lisbon"],
      "2026-04-20T00:00:00Z",
      { outcome: "moved", expires_at: at("2026-06-30T23:00:00Z") },
    ],
    [
      "an expiry no policy gives on the old clock: kept",
      {
        earned_at: at("2026-04-15T10:00:00Z"),
        available_at: at("2026-04-15T10:00:00Z"),
        expires_at: at("2026-05-05T12:34:56Z"),
      },
      MONTH_END,
      ["Europe/Amsterdam", "Europe/Lisbon"],
      "2026-04-20T00:00:00Z",
      { outcome: "unknown" },
    ],
    [
      "the same zone: nothing moves",
      lotIn("2026-04-15T10:00:00Z", MONTH_END, "Europe/Amsterdam"),
      MONTH_END,
      ["Europe/Amsterdam", "Europe/Amsterdam"],
      "2026-04-20T00:00:00Z",
      { outcome: "same" },
    ],
  ] as const)("%s", (_name, lot, policy, [from, to], now, expected) => {
    expect(rezonedExpiry(lot, policy, from, to, at(now))).toEqual(expected);
  });
});

describe("lotPolicy", () => {
  it.each([
    ["the program's own, first", MONTH_END, MONTH_END],
    [
      "a 1 January expiry of another policy reads as an end of year",
      { policy: "never" },
      { policy: "end_of_year", years_after: 0 },
    ],
    ["an end of month", { policy: "days_after_earn", days: 10 }, MONTH_END],
  ] as const)("finds %s", (name, current, expected) => {
    const earned = name.includes("January") ? "2026-12-10T10:00:00Z" : "2026-04-15T10:00:00Z";
    expect(lotPolicy(lotIn(earned, expected, "Europe/Warsaw"), current, "Europe/Warsaw")).toEqual(expected);
  });

  it("finds a number of days, and nothing beyond the bounds a program can have", () => {
    const lot = lotIn("2026-04-15T10:00:00Z", { policy: "days_after_earn", days: 45 }, "Europe/Warsaw");
    expect(lotPolicy(lot, { policy: "never" }, "Europe/Warsaw")).toEqual({
      policy: "days_after_earn",
      days: 45,
    });
    const far = { ...lot, expires_at: at("2045-04-15T08:00:00Z") };
    expect(lotPolicy(far, { policy: "never" }, "Europe/Warsaw")).toBeNull();
  });
});

// Zones with DST on either hemisphere, at midnight (Santiago, Asunción), by 30 minutes (Lord
// Howe), half- and three-quarter-hour offsets, and none at all.
const ZONES = [
  "Europe/Amsterdam",
  "Europe/Lisbon",
  "America/New_York",
  "America/Santiago",
  "America/Asuncion",
  "Australia/Lord_Howe",
  "Asia/Kolkata",
  "Pacific/Chatham",
  "UTC",
];

const policies: fc.Arbitrary<Exclude<ExpiryPolicy, { policy: "never" }>> = fc.oneof(
  fc.integer({ min: 1, max: 3650 }).map((days) => ({ policy: "days_after_earn" as const, days })),
  fc.integer({ min: 0, max: 120 }).map((months_after) => ({ policy: "end_of_month" as const, months_after })),
  fc.integer({ min: 0, max: 10 }).map((years_after) => ({ policy: "end_of_year" as const, years_after })),
);

/** A lot earned between 2020 and 2035 in `from`, with a pending period shorter than a days policy. */
const lots = fc
  .record({
    earned: fc.integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) }),
    pending: fc.integer({ min: 0, max: 30 }),
    policy: policies,
    from: fc.constantFrom(...ZONES),
    to: fc.constantFrom(...ZONES),
  })
  .map((x) => {
    const pending =
      x.policy.policy === "days_after_earn" ? Math.min(x.pending, x.policy.days - 1) : x.pending;
    return { ...x, lot: lotIn(new Date(x.earned), x.policy, x.from, pending) };
  });

describe("rezonedExpiry, for any lot, policy and pair of zones", () => {
  it("gives the lot the expiry its policy gives points earned on the new clock", () => {
    fc.assert(
      fc.property(lots, ({ lot, policy, from, to }) => {
        // Just released: both expiries are ahead (a days policy is longer than the pending period).
        const now = lot.available_at;
        const wanted = expiresAt(lot.earned_at, policy, to, lot.available_at) as Date;
        const got = rezonedExpiry(lot, policy, from, to, now);
        if (wanted.getTime() === lot.expires_at.getTime()) expect(got).toEqual({ outcome: "same" });
        else expect(got).toEqual({ outcome: "moved", expires_at: wanted });
      }),
      { numRuns: 1500 },
    );
  });

  it("brings the expiry back when the business moves back", () => {
    fc.assert(
      fc.property(lots, ({ lot, policy, from, to }) => {
        const now = lot.available_at;
        const there = rezonedExpiry(lot, policy, from, to, now);
        const moved = there.outcome === "moved" ? { ...lot, expires_at: there.expires_at } : lot;
        const back = rezonedExpiry(moved, policy, to, from, now);
        expect(back.outcome === "moved" ? back.expires_at : moved.expires_at).toEqual(lot.expires_at);
      }),
      { numRuns: 800 },
    );
  });

  it("tells a policy that gives the lot's expiry when the program's no longer does", () => {
    fc.assert(
      fc.property(lots, ({ lot, from }) => {
        const found = lotPolicy(lot, { policy: "never" }, from);
        expect(found).not.toBeNull();
        expect(expiresAt(lot.earned_at, found as ExpiryPolicy, from, lot.available_at)).toEqual(
          lot.expires_at,
        );
      }),
      { numRuns: 1500 },
    );
  });

  it("never moves an expiry to or before now, nor when the zone stays", () => {
    fc.assert(
      fc.property(lots, fc.integer({ min: 0, max: 400 * 86_400_000 }), ({ lot, policy, from, to }, later) => {
        const now = new Date(lot.available_at.getTime() + later);
        fc.pre(now < lot.expires_at);
        const got = rezonedExpiry(lot, policy, from, to, now);
        if (got.outcome === "moved") expect(got.expires_at.getTime()).toBeGreaterThan(now.getTime());
        expect(rezonedExpiry(lot, policy, from, from, now)).toEqual({ outcome: "same" });
      }),
      { numRuns: 800 },
    );
  });
});
