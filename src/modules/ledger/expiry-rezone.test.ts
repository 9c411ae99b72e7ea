import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { addLocalDays, sameWallClock, zonedParts, zonedTimeToUtc } from "../../shared/time.ts";
import type { ExpiryPolicy } from "../program/config.ts";
import { expiresAt, rezonedExpiry } from "./expiry.ts";

const at = (iso: string) => new Date(iso);

/** The expiry of points earned at `earned` under `policy` on the clock of `zone`. */
function expiryIn(earned: string, policy: ExpiryPolicy, zone: string): Date {
  const expires = expiresAt(at(earned), policy, zone);
  if (!expires) throw new Error("a lot with an expiry");
  return expires;
}

const MONTH_END = { policy: "end_of_month", months_after: 0 } as const;

describe("rezonedExpiry", () => {
  it.each([
    [
      "end of April: midnight Amsterdam becomes midnight Lisbon, an hour later",
      expiryIn("2026-04-15T10:00:00Z", MONTH_END, "Europe/Amsterdam"),
      ["Europe/Amsterdam", "Europe/Lisbon"],
      "2026-04-20T12:00:00Z",
      { outcome: "moved", expires_at: at("2026-04-30T23:00:00Z") },
    ],
    [
      "end of April: midnight Lisbon becomes midnight Amsterdam, an hour earlier",
      expiryIn("2026-04-15T10:00:00Z", MONTH_END, "Europe/Lisbon"),
      ["Europe/Lisbon", "Europe/Amsterdam"],
      "2026-04-20T12:00:00Z",
      { outcome: "moved", expires_at: at("2026-04-30T22:00:00Z") },
    ],
    [
      // Earned in the first half hour of 2026 in Amsterdam, which is still 2025 in Lisbon: the
      // year's end stays 1 January 2028, midnight, an hour later, and loses no year.
      "end of next year, earned at 00:30 on 1 January in Amsterdam: an hour later in Lisbon, not a year earlier",
      expiryIn("2025-12-31T23:30:00Z", { policy: "end_of_year", years_after: 1 }, "Europe/Amsterdam"),
      ["Europe/Amsterdam", "Europe/Lisbon"],
      "2026-07-01T10:00:00Z",
      { outcome: "moved", expires_at: at("2028-01-01T00:00:00Z") },
    ],
    [
      // 23:30 on 31 December 2025 in Lisbon is 2026 in Amsterdam: the end stays 1 January 2027.
      "end of next year, earned at 23:30 on 31 December in Lisbon, moving east: an hour earlier, and no year more",
      expiryIn("2025-12-31T23:30:00Z", { policy: "end_of_year", years_after: 1 }, "Europe/Lisbon"),
      ["Europe/Lisbon", "Europe/Amsterdam"],
      "2026-07-01T10:00:00Z",
      { outcome: "moved", expires_at: at("2026-12-31T23:00:00Z") },
    ],
    [
      "end of next month, earned at 00:30 on 1 April in Amsterdam: 1 June, midnight Lisbon",
      expiryIn("2026-03-31T22:30:00Z", { policy: "end_of_month", months_after: 1 }, "Europe/Amsterdam"),
      ["Europe/Amsterdam", "Europe/Lisbon"],
      "2026-04-02T10:00:00Z",
      { outcome: "moved", expires_at: at("2026-05-31T23:00:00Z") },
    ],
    [
      "30 days between zones on the same summer time: the same instant",
      expiryIn("2026-03-15T12:00:00Z", { policy: "days_after_earn", days: 30 }, "Europe/Amsterdam"),
      ["Europe/Amsterdam", "Europe/Berlin"],
      "2026-03-20T12:00:00Z",
      { outcome: "same" },
    ],
    [
      // 13:00 on 3 April in Amsterdam (CEST) is 13:00 on 3 April in New York (EDT): six hours later.
      "14 days: the same date and time of day on the new clock",
      expiryIn("2026-03-20T12:00:00Z", { policy: "days_after_earn", days: 14 }, "Europe/Amsterdam"),
      ["Europe/Amsterdam", "America/New_York"],
      "2026-03-25T12:00:00Z",
      { outcome: "moved", expires_at: at("2026-04-03T17:00:00Z") },
    ],
    [
      "23:30 on 31 March in Lisbon, moving east: 1 April has come in Amsterdam, so the lot keeps its expiry",
      expiryIn("2026-03-10T10:00:00Z", MONTH_END, "Europe/Lisbon"),
      ["Europe/Lisbon", "Europe/Amsterdam"],
      "2026-03-31T22:30:00Z",
      { outcome: "passed", expires_at: at("2026-03-31T22:00:00Z") },
    ],
    [
      "the new expiry at the very instant of now has passed too",
      expiryIn("2026-03-10T10:00:00Z", MONTH_END, "Europe/Lisbon"),
      ["Europe/Lisbon", "Europe/Amsterdam"],
      "2026-03-31T22:00:00Z",
      { outcome: "passed", expires_at: at("2026-03-31T22:00:00Z") },
    ],
    [
      "the same zone: the same instant",
      expiryIn("2026-04-15T10:00:00Z", MONTH_END, "Europe/Lisbon"),
      ["Europe/Lisbon", "Europe/Lisbon"],
      "2026-04-20T12:00:00Z",
      { outcome: "same" },
    ],
  ] as const)("%s", (_name, expires, [from, to], now, expected) => {
    expect(rezonedExpiry(expires, from, to, at(now))).toEqual(expected);
  });
});

describe("sameWallClock, where the new clock skips or repeats the time", () => {
  it.each([
    [
      // 02:30:15 on 29 March does not exist in Amsterdam (02:00 → 03:00): the first instant after
      // the gap, with the seconds, as "N days after earning" reads it.
      "a time summer time skips: the first instant after the gap, with its seconds",
      "2026-03-29T02:30:15.250Z",
      ["UTC", "Europe/Amsterdam"],
      "2026-03-29T01:00:15.250Z",
      addLocalDays(at("2026-03-28T01:30:15.250Z"), 1, "Europe/Amsterdam"),
    ],
    [
      // 02:30 on 25 October is shown twice in Amsterdam (CEST, then CET): the earlier.
      "a time shown twice when summer time ends: the earlier",
      "2026-10-25T02:30:00Z",
      ["UTC", "Europe/Amsterdam"],
      "2026-10-25T00:30:00Z",
      addLocalDays(at("2026-10-24T00:30:00Z"), 1, "Europe/Amsterdam"),
    ],
    [
      // Santiago starts summer time at midnight (6 September 2026: 00:00 → 01:00).
      "a midnight the clock skips: 01:00, the first instant of that day",
      "2026-09-06T00:00:00Z",
      ["UTC", "America/Santiago"],
      "2026-09-06T04:00:00Z",
      zonedTimeToUtc({ year: 2026, month: 9, day: 6 }, "America/Santiago"),
    ],
  ] as const)("%s", (_name, date, [from, to], expected, asExpiresAtGives) => {
    expect(sameWallClock(at(date), from, to)).toEqual(at(expected));
    expect(asExpiresAtGives).toEqual(at(expected));
  });

  it("gives the instant itself where both clocks read the same, the later of two equal readings too", () => {
    const later = at("2026-10-25T01:30:00Z"); // 02:30 CET, after 02:30 CEST
    expect(sameWallClock(later, "Europe/Amsterdam", "Europe/Amsterdam")).toBe(later);
    expect(sameWallClock(later, "Europe/Amsterdam", "Europe/Berlin")).toBe(later);
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
const zones = fc.constantFrom(...ZONES);
const instants = fc
  .integer({ min: Date.UTC(2020, 0, 1), max: Date.UTC(2035, 0, 1) })
  .map((ms) => new Date(ms));

const reading = (date: Date, zone: string) => {
  const { weekday: _weekday, ...p } = zonedParts(date, zone);
  return { ...p, ms: date.getTime() % 1000 };
};

describe("sameWallClock, for any instant and pair of zones", () => {
  it("reads on the new clock what the old one read, unless the new clock skips that time", () => {
    fc.assert(
      fc.property(instants, zones, zones, (date, from, to) => {
        const moved = sameWallClock(date, from, to);
        const wanted = reading(date, from);
        const got = reading(moved, to);
        if (JSON.stringify(got) === JSON.stringify(wanted)) return;
        // Skipped: no instant within a day either side reads it, and the result is right after
        // the gap (the clock read less than the wanted time a moment before).
        const minute = zonedTimeToUtc(wanted, to);
        expect(reading(minute, to).hour * 60 + reading(minute, to).minute).not.toBe(
          wanted.hour * 60 + wanted.minute,
        );
        expect(Math.abs(moved.getTime() - date.getTime())).toBeLessThan(2 * 86_400_000);
      }),
      { numRuns: 1500 },
    );
  });

  it("resolves a time the new clock skips or repeats as an expiry of N days on that clock", () => {
    fc.assert(
      fc.property(instants, fc.integer({ min: 1, max: 3650 }), zones, (earned, days, to) => {
        // Earned at a time that exists on the new clock, then N days on the old (UTC, no DST).
        const there = sameWallClock(earned, "UTC", to);
        fc.pre(JSON.stringify(reading(there, to)) === JSON.stringify(reading(earned, "UTC")));
        const expiry = addLocalDays(earned, days, "UTC");
        const moved = sameWallClock(expiry, "UTC", to);
        const wanted = addLocalDays(there, days, to);
        if (moved.getTime() === wanted.getTime()) return;
        // A reading the new clock shows twice (the hour summer time ends) that the expiry already
        // reads there: `sameWallClock` keeps it (the later of the two), `addLocalDays` takes the
        // earlier. The same date and time on the card either way, at most the clock's shift apart.
        expect(reading(expiry, to)).toEqual(reading(expiry, "UTC"));
        expect(reading(moved, to)).toEqual(reading(wanted, to));
        expect(moved.getTime() - wanted.getTime()).toBeGreaterThan(0);
        expect(moved.getTime() - wanted.getTime()).toBeLessThanOrEqual(3_600_000);
      }),
      { numRuns: 1500, ...(process.env.REZONE_SEED ? { seed: Number(process.env.REZONE_SEED) } : {}) },
    );
  });

  it("brings the instant back when the business moves back, unless the reading was skipped or shown twice", () => {
    fc.assert(
      fc.property(instants, zones, zones, (date, from, to) => {
        const there = sameWallClock(date, from, to);
        fc.pre(JSON.stringify(reading(there, to)) === JSON.stringify(reading(date, from)));
        const back = sameWallClock(there, to, from);
        if (back.getTime() === date.getTime()) return;
        // Only the later of two equal readings on the old clock comes back as the earlier.
        expect(reading(back, from)).toEqual(reading(date, from));
        expect(back.getTime()).toBeLessThan(date.getTime());
      }),
      { numRuns: 1500 },
    );
  });
});

describe("rezonedExpiry, for any expiry and pair of zones", () => {
  it("moves an expiry there and back to the instant it had, when neither move was held back", () => {
    fc.assert(
      fc.property(instants, zones, zones, (expires, from, to) => {
        // Long before the expiry: "never into the past" holds neither move back.
        const now = new Date(expires.getTime() - 3 * 86_400_000);
        const there = rezonedExpiry(expires, from, to, now);
        const moved = there.outcome === "moved" ? there.expires_at : expires;
        // Not a time the new clock skips: that one comes back after the gap.
        fc.pre(JSON.stringify(reading(moved, to)) === JSON.stringify(reading(expires, from)));
        const back = rezonedExpiry(moved, to, from, now);
        expect(back.outcome).not.toBe("passed");
        const home = back.outcome === "moved" ? back.expires_at : moved;
        if (home.getTime() === expires.getTime()) return;
        // Only the later of two equal readings on the old clock comes back as the earlier.
        expect(reading(home, from)).toEqual(reading(expires, from));
        expect(home.getTime()).toBeLessThan(expires.getTime());
      }),
      { numRuns: 2000 },
    );
  });

  it("never moves an expiry to or before now, nor when the zone stays", () => {
    fc.assert(
      fc.property(
        instants,
        fc.integer({ min: 1, max: 2 * 86_400_000 }),
        zones,
        zones,
        (expires, before, from, to) => {
          const now = new Date(expires.getTime() - before);
          const got = rezonedExpiry(expires, from, to, now);
          if (got.outcome === "moved") expect(got.expires_at.getTime()).toBeGreaterThan(now.getTime());
          if (got.outcome === "passed") expect(got.expires_at.getTime()).toBeLessThanOrEqual(now.getTime());
          expect(rezonedExpiry(expires, from, from, now)).toEqual({ outcome: "same" });
        },
      ),
      { numRuns: 2000 },
    );
  });
});
