import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { zonedParts, zonedPartsByIntl } from "./time.ts";

// Zones with DST on either hemisphere, half-hour and 45-minute offsets, a 30-minute DST shift
// (Lord Howe), a date-line jump (Apia) and none at all.
const ZONES = [
  "Europe/Amsterdam",
  "Europe/Warsaw",
  "America/Sao_Paulo",
  "America/New_York",
  "Australia/Lord_Howe",
  "Asia/Kathmandu",
  "Asia/Kolkata",
  "Pacific/Chatham",
  "Pacific/Apia",
  "UTC",
];

describe("zonedParts", () => {
  it("reads the same wall clock as Intl at any instant, in any zone", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) }),
        fc.constantFrom(...ZONES),
        (ms, zone) => {
          const date = new Date(ms);
          expect(zonedParts(date, zone)).toEqual(zonedPartsByIntl(date, zone));
        },
      ),
      { numRuns: 3000 },
    );
  });

  it("is right on both sides of a change of offset, to the second", () => {
    // Amsterdam: 2026-03-29 01:00 UTC clocks go from 02:00 to 03:00; 2026-10-25 01:00 UTC back.
    // Lord Howe: 2026-04-05 02:00 local (15:00 UTC the day before) back by 30 minutes, and
    // 2026-10-04 02:00 local (15:30 UTC the day before: inside a UTC hour) forward by 30 minutes.
    const instants = [
      ["2026-03-29T00:59:59Z", "Europe/Amsterdam"],
      ["2026-03-29T01:00:00Z", "Europe/Amsterdam"],
      ["2026-10-25T00:59:59Z", "Europe/Amsterdam"],
      ["2026-10-25T01:00:00Z", "Europe/Amsterdam"],
      ["2026-04-04T14:59:59Z", "Australia/Lord_Howe"],
      ["2026-04-04T15:00:00Z", "Australia/Lord_Howe"],
      ["2026-04-04T15:30:00Z", "Australia/Lord_Howe"],
      ["2026-10-03T15:00:00Z", "Australia/Lord_Howe"],
      ["2026-10-03T15:29:59Z", "Australia/Lord_Howe"],
      ["2026-10-03T15:30:00Z", "Australia/Lord_Howe"],
      ["2026-10-03T15:59:59Z", "Australia/Lord_Howe"],
    ] as const;
    for (const [iso, zone] of instants) {
      const date = new Date(iso);
      expect(zonedParts(date, zone), `${iso} ${zone}`).toEqual(zonedPartsByIntl(date, zone));
    }
    expect(zonedParts(new Date("2026-03-29T01:00:00Z"), "Europe/Amsterdam")).toMatchObject({
      hour: 3,
      minute: 0,
    });
    expect(zonedParts(new Date("2026-10-25T00:59:59Z"), "Europe/Amsterdam")).toMatchObject({
      hour: 2,
      minute: 59,
      second: 59,
      weekday: 7,
    });
  });
});
