import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { startOfYear, zonedParts } from "../../shared/time.ts";
import { retainedUntil, rezonedRetentionEnds } from "./qualify.ts";

const at = (iso: string) => new Date(iso);

describe("rezonedRetentionEnds", () => {
  it.each([
    [
      "Amsterdam to Lisbon in June: both 1 January midnights an hour later",
      ["Europe/Amsterdam", "Europe/Lisbon"],
      "2026-06-01T10:00:00Z",
      [
        { was: at("2026-12-31T23:00:00Z"), next: at("2027-01-01T00:00:00Z"), outcome: "moved" },
        { was: at("2027-12-31T23:00:00Z"), next: at("2028-01-01T00:00:00Z"), outcome: "moved" },
      ],
    ],
    [
      "Lisbon to Amsterdam at 23:30 on 31 December in Lisbon: next 1 January has come in Amsterdam",
      ["Europe/Lisbon", "Europe/Amsterdam"],
      "2026-12-31T23:30:00Z",
      [
        { was: at("2027-01-01T00:00:00Z"), next: at("2026-12-31T23:00:00Z"), outcome: "passed" },
        { was: at("2028-01-01T00:00:00Z"), next: at("2027-12-31T23:00:00Z"), outcome: "moved" },
      ],
    ],
    [
      "Lisbon to Amsterdam at 22:59:59.999 on 31 December in Lisbon: the last moment it still moves",
      ["Europe/Lisbon", "Europe/Amsterdam"],
      "2026-12-31T22:59:59.999Z",
      [
        { was: at("2027-01-01T00:00:00Z"), next: at("2026-12-31T23:00:00Z"), outcome: "moved" },
        { was: at("2028-01-01T00:00:00Z"), next: at("2027-12-31T23:00:00Z"), outcome: "moved" },
      ],
    ],
    [
      "Amsterdam to Sydney, in its summer time: ten hours earlier",
      ["Europe/Amsterdam", "Australia/Sydney"],
      "2026-06-01T10:00:00Z",
      [
        { was: at("2026-12-31T23:00:00Z"), next: at("2026-12-31T13:00:00Z"), outcome: "moved" },
        { was: at("2027-12-31T23:00:00Z"), next: at("2027-12-31T13:00:00Z"), outcome: "moved" },
      ],
    ],
    [
      "New York to Auckland at 07:00 on 31 December, 01:00 on 1 January there: that end has passed",
      ["America/New_York", "Pacific/Auckland"],
      "2026-12-31T12:00:00Z",
      [
        { was: at("2027-01-01T05:00:00Z"), next: at("2026-12-31T11:00:00Z"), outcome: "passed" },
        { was: at("2028-01-01T05:00:00Z"), next: at("2027-12-31T11:00:00Z"), outcome: "moved" },
      ],
    ],
    [
      "Amsterdam to Berlin: the same midnights, nothing to move",
      ["Europe/Amsterdam", "Europe/Berlin"],
      "2026-06-01T10:00:00Z",
      [],
    ],
    ["the same zone: nothing to move", ["Europe/Lisbon", "Europe/Lisbon"], "2026-06-01T10:00:00Z", []],
  ] as const)("%s", (_name, [from, to], now, ends) => {
    expect(rezonedRetentionEnds(from, to, at(now))).toEqual(ends);
  });

  it("lists every calendar-year end still ahead, each at the start of the same year on the new clock", () => {
    const zones = fc.constantFrom(
      "Europe/Amsterdam",
      "Europe/Lisbon",
      "America/New_York",
      "Australia/Sydney",
      "Pacific/Auckland",
      "Asia/Kolkata",
      "UTC",
    );
    const instants = fc.integer({
      min: Date.parse("2024-01-01T00:00:00Z"),
      max: Date.parse("2032-01-01T00:00:00Z"),
    });
    fc.assert(
      fc.property(zones, zones, instants, instants, (from, to, a, b) => {
        const [reached, now] = [new Date(Math.min(a, b)), new Date(Math.max(a, b))];
        const ends = rezonedRetentionEnds(from, to, now);
        // Whatever a calendar-year tier was given on the old clock, at or before now: kept until the
        // start of the year after next, or (on last year's metric) of next year.
        for (const stored of [retainedUntil("calendar_year", reached, from), startOfYear(reached, from, 1)]) {
          if (stored <= now) continue;
          const end = ends.find((e) => e.was.getTime() === stored.getTime());
          const year = zonedParts(stored, from).year;
          const next = startOfYear(new Date(Date.UTC(year, 6, 1)), to);
          if (next.getTime() === stored.getTime()) expect(end).toBeUndefined();
          else expect(end).toEqual({ was: stored, next, outcome: next > now ? "moved" : "passed" });
        }
        for (const end of ends) expect(end.was > now).toBe(true);
        // An end a tier was given on the new clock (since the change) is none to move: a
        // follow-up that runs late, or twice, leaves it.
        for (const ahead of [1, 2]) {
          const written = startOfYear(now, to, ahead);
          expect(ends.filter((e) => e.was.getTime() === written.getTime())).toEqual([]);
        }
      }),
    );
  });
});
