import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { startOfDay, startOfMonth, zonedParts, zonedPartsByIntl, zonedTimeToUtc } from "./time.ts";

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

// Transition days, read from Intl (2026 unless said): Santiago springs forward at 00:00 on 6 Sep
// (00:00–00:59 does not exist) and falls back at 00:00 on 5 Apr (4 Apr 23:00–23:59 twice);
// Asunción springs forward at 00:00 on 1 Oct 2023; Amsterdam at 02:00 on 29 Mar and back at 03:00
// on 25 Oct; Lord Howe forward 30 minutes at 02:00 on 4 Oct and back at 02:00 on 5 Apr; Havana
// forward at 00:00 on 8 Mar and back at 01:00 on 1 Nov (00:00–00:59 twice).
describe("zonedTimeToUtc", () => {
  it.each([
    [
      "Santiago: midnight in a gap is the first instant of the day",
      "America/Santiago",
      "2026-09-06 00:00",
      "2026-09-06T04:00:00.000Z",
    ],
    ["Santiago: inside the gap", "America/Santiago", "2026-09-06 00:30", "2026-09-06T04:00:00.000Z"],
    ["Santiago: end of the gap", "America/Santiago", "2026-09-06 01:00", "2026-09-06T04:00:00.000Z"],
    ["Santiago: before the gap", "America/Santiago", "2026-09-05 23:59", "2026-09-06T03:59:00.000Z"],
    [
      "Santiago: overlap before midnight, the earlier",
      "America/Santiago",
      "2026-04-04 23:30",
      "2026-04-05T02:30:00.000Z",
    ],
    [
      "Santiago: midnight after an overlap",
      "America/Santiago",
      "2026-04-05 00:00",
      "2026-04-05T04:00:00.000Z",
    ],
    ["Asunción: midnight in a gap", "America/Asuncion", "2023-10-01 00:00", "2023-10-01T04:00:00.000Z"],
    ["Asunción: the day before", "America/Asuncion", "2023-09-30 12:00", "2023-09-30T16:00:00.000Z"],
    ["Amsterdam: before the gap", "Europe/Amsterdam", "2026-03-29 01:59", "2026-03-29T00:59:00.000Z"],
    ["Amsterdam: start of the gap", "Europe/Amsterdam", "2026-03-29 02:00", "2026-03-29T01:00:00.000Z"],
    ["Amsterdam: inside the gap", "Europe/Amsterdam", "2026-03-29 02:30", "2026-03-29T01:00:00.000Z"],
    ["Amsterdam: end of the gap", "Europe/Amsterdam", "2026-03-29 03:00", "2026-03-29T01:00:00.000Z"],
    [
      "Amsterdam: midnight before an overlap",
      "Europe/Amsterdam",
      "2026-10-25 00:00",
      "2026-10-24T22:00:00.000Z",
    ],
    [
      "Amsterdam: start of the overlap, the earlier",
      "Europe/Amsterdam",
      "2026-10-25 02:00",
      "2026-10-25T00:00:00.000Z",
    ],
    [
      "Amsterdam: inside the overlap, the earlier",
      "Europe/Amsterdam",
      "2026-10-25 02:30",
      "2026-10-25T00:30:00.000Z",
    ],
    ["Amsterdam: after the overlap", "Europe/Amsterdam", "2026-10-25 03:00", "2026-10-25T02:00:00.000Z"],
    [
      "Lord Howe: before the 30-minute gap",
      "Australia/Lord_Howe",
      "2026-10-04 01:59",
      "2026-10-03T15:29:00.000Z",
    ],
    ["Lord Howe: start of the gap", "Australia/Lord_Howe", "2026-10-04 02:00", "2026-10-03T15:30:00.000Z"],
    ["Lord Howe: inside the gap", "Australia/Lord_Howe", "2026-10-04 02:15", "2026-10-03T15:30:00.000Z"],
    ["Lord Howe: end of the gap", "Australia/Lord_Howe", "2026-10-04 02:30", "2026-10-03T15:30:00.000Z"],
    [
      "Lord Howe: midnight before an overlap",
      "Australia/Lord_Howe",
      "2026-04-05 00:00",
      "2026-04-04T13:00:00.000Z",
    ],
    [
      "Lord Howe: start of the 30-minute overlap, the earlier",
      "Australia/Lord_Howe",
      "2026-04-05 01:30",
      "2026-04-04T14:30:00.000Z",
    ],
    [
      "Lord Howe: inside the overlap, the earlier",
      "Australia/Lord_Howe",
      "2026-04-05 01:45",
      "2026-04-04T14:45:00.000Z",
    ],
    ["Lord Howe: after the overlap", "Australia/Lord_Howe", "2026-04-05 02:00", "2026-04-04T15:30:00.000Z"],
    ["Havana: midnight in a gap", "America/Havana", "2026-03-08 00:00", "2026-03-08T05:00:00.000Z"],
    [
      "Havana: midnight in an overlap, the earlier",
      "America/Havana",
      "2026-11-01 00:00",
      "2026-11-01T04:00:00.000Z",
    ],
    [
      "Havana: inside the overlap, the earlier",
      "America/Havana",
      "2026-11-01 00:30",
      "2026-11-01T04:30:00.000Z",
    ],
    ["UTC on Amsterdam's gap day", "UTC", "2026-03-29 02:30", "2026-03-29T02:30:00.000Z"],
    ["UTC on Santiago's gap day", "UTC", "2026-09-06 00:00", "2026-09-06T00:00:00.000Z"],
  ])("%s", (_name, zone, local, expected) => {
    const [year, month, day, hour, minute] = local.split(/[- :]/).map(Number) as [
      number,
      number,
      number,
      number,
      number,
    ];
    expect(zonedTimeToUtc({ year, month, day, hour, minute }, zone).toISOString()).toBe(expected);
  });

  it("gives the first instant whose wall clock reads the local time or later, in any zone", () => {
    const wall = (ms: number, zone: string) => {
      const p = zonedParts(new Date(ms), zone);
      return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
    };
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(1971, 0, 1) / 60_000, max: Date.UTC(2099, 0, 1) / 60_000 }),
        fc.constantFrom(...ZONES, "America/Santiago", "America/Asuncion", "America/Havana"),
        (minutes, zone) => {
          const local = new Date(minutes * 60_000);
          const at = zonedTimeToUtc(
            {
              year: local.getUTCFullYear(),
              month: local.getUTCMonth() + 1,
              day: local.getUTCDate(),
              hour: local.getUTCHours(),
              minute: local.getUTCMinutes(),
            },
            zone,
          ).getTime();
          expect(wall(at, zone)).toBeGreaterThanOrEqual(local.getTime());
          // No earlier instant (a second apart, up to two hours back) reads it already.
          for (let t = at - 1000; t >= at - 2 * 3_600_000; t -= t > at - 60_000 ? 1000 : 60_000) {
            expect(wall(t, zone)).toBeLessThan(local.getTime());
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("startOfDay, startOfMonth", () => {
  it.each([
    [
      "Santiago, a day whose DST starts at midnight",
      "America/Santiago",
      "2026-09-06T15:00:00Z",
      "2026-09-06T04:00:00.000Z",
    ],
    ["Santiago, its first instant", "America/Santiago", "2026-09-06T04:00:00Z", "2026-09-06T04:00:00.000Z"],
    [
      "Santiago, the last second of the day before",
      "America/Santiago",
      "2026-09-06T03:59:59Z",
      "2026-09-05T04:00:00.000Z",
    ],
    [
      "Santiago, a day after an overlap at midnight",
      "America/Santiago",
      "2026-04-05T12:00:00Z",
      "2026-04-05T04:00:00.000Z",
    ],
    ["Santiago, inside that overlap", "America/Santiago", "2026-04-05T03:30:00Z", "2026-04-04T03:00:00.000Z"],
    [
      "Asunción, a day whose DST starts at midnight",
      "America/Asuncion",
      "2023-10-01T15:00:00Z",
      "2023-10-01T04:00:00.000Z",
    ],
    ["Amsterdam, the day of the gap", "Europe/Amsterdam", "2026-03-29T12:00:00Z", "2026-03-28T23:00:00.000Z"],
    [
      "Amsterdam, the day of the overlap",
      "Europe/Amsterdam",
      "2026-10-25T12:00:00Z",
      "2026-10-24T22:00:00.000Z",
    ],
    [
      "Lord Howe, the day of the gap",
      "Australia/Lord_Howe",
      "2026-10-04T00:00:00Z",
      "2026-10-03T13:30:00.000Z",
    ],
    [
      "Lord Howe, the day of the overlap",
      "Australia/Lord_Howe",
      "2026-04-05T00:00:00Z",
      "2026-04-04T13:00:00.000Z",
    ],
    [
      "Havana, a day whose DST starts at midnight",
      "America/Havana",
      "2026-03-08T12:00:00Z",
      "2026-03-08T05:00:00.000Z",
    ],
    [
      "Havana, a day whose first hour repeats",
      "America/Havana",
      "2026-11-01T15:00:00Z",
      "2026-11-01T04:00:00.000Z",
    ],
    ["UTC", "UTC", "2026-09-06T15:00:00Z", "2026-09-06T00:00:00.000Z"],
  ])("startOfDay: %s", (_name, zone, at, expected) => {
    expect(startOfDay(new Date(at), zone).toISOString()).toBe(expected);
  });

  it.each([
    [
      "Asunción, the month whose first day starts at 01:00",
      "America/Asuncion",
      "2023-10-15T12:00:00Z",
      0,
      "2023-10-01T04:00:00.000Z",
    ],
    [
      "Asunción, the next month from September",
      "America/Asuncion",
      "2023-09-15T12:00:00Z",
      1,
      "2023-10-01T04:00:00.000Z",
    ],
    [
      "Santiago, the month of the gap",
      "America/Santiago",
      "2026-09-20T12:00:00Z",
      0,
      "2026-09-01T04:00:00.000Z",
    ],
    ["UTC", "UTC", "2023-09-15T12:00:00Z", 1, "2023-10-01T00:00:00.000Z"],
  ])("startOfMonth: %s", (_name, zone, at, add, expected) => {
    expect(startOfMonth(new Date(at), zone, add).toISOString()).toBe(expected);
  });
});
