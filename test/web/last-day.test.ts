import { describe, expect, it } from "vitest";
import { expiryLines, formatUntil, isStartOfDay } from "../../web/src/i18n/format.ts";

/** Intl separates a time from AM/PM with a narrow no-break space in some versions: compare words. */
const words = (text: string) => text.replace(/\s/g, " ");

describe("until when something can be used, from the instant it ends", () => {
  it.each([
    // End of March in Amsterdam is stored as the first instant of April: the last day is 31 March.
    ["2026-03-31T22:00:00.000Z", "Europe/Amsterdam", "en-US", "Mar 31, 2026"],
    ["2026-03-31T22:00:00.000Z", "Europe/Amsterdam", "nl", "31 mrt 2026"],
    // A tier kept to the end of 2027.
    ["2027-12-31T23:00:00.000Z", "Europe/Warsaw", "pl", "31 gru 2027"],
    ["2028-01-01T03:00:00.000Z", "America/Sao_Paulo", "pt-BR", "31 de dez. de 2027"],
  ])(
    "%s in %s (%s), the start of a day, is used until the whole day before: %s",
    (iso, zone, locale, day) => {
      expect(formatUntil(iso, locale, zone)).toEqual({ date: day, time: false });
    },
  );

  it.each([
    // Bought at 15:00 on 2 March, 30 days: the points end at 15:00 on 1 April, not at its midnight.
    ["2026-04-01T13:00:00.000Z", "Europe/Amsterdam", "en-GB", "1 Apr 2026, 15:00"],
    ["2026-04-01T13:00:00.000Z", "Europe/Amsterdam", "nl", "1 apr 2026, 15:00"],
    ["2026-04-01T13:00:00.000Z", "Europe/Warsaw", "pl", "1 kwi 2026, 15:00"],
    ["2026-04-01T18:00:00.000Z", "America/Sao_Paulo", "pt-BR", "1 de abr. de 2026, 15:00"],
    // A rolling tier reached at 12:23 ends at 12:23; the seconds are left out (it is earlier).
    ["2026-06-01T10:23:40.000Z", "Europe/Amsterdam", "en-US", "Jun 1, 2026, 12:23 PM"],
    // Midnight in UTC is not midnight in Amsterdam.
    ["2026-04-01T00:00:00.000Z", "Europe/Amsterdam", "en-GB", "1 Apr 2026, 02:00"],
  ])("%s in %s (%s), another time of day, is told with its time: %s", (iso, zone, locale, shown) => {
    const until = formatUntil(iso, locale, zone);
    expect(until.time).toBe(true);
    expect(words(until.date)).toBe(shown);
  });

  it("knows the start of a day in the business's time zone, also one whose midnight a clock change skips", () => {
    expect(isStartOfDay("2026-03-31T22:00:00.000Z", "Europe/Amsterdam")).toBe(true);
    expect(isStartOfDay("2026-03-31T22:00:00.001Z", "Europe/Amsterdam")).toBe(false);
    expect(isStartOfDay("2026-03-31T21:59:59.999Z", "Europe/Amsterdam")).toBe(false);
    expect(isStartOfDay("2026-04-01T00:00:00.000Z", "UTC")).toBe(true);
    // 4 November 2018 in São Paulo began at 01:00: the clocks went from midnight to one.
    expect(isStartOfDay("2018-11-04T03:00:00.000Z", "America/Sao_Paulo")).toBe(true);
    expect(formatUntil("2018-11-04T03:00:00.000Z", "pt-BR", "America/Sao_Paulo")).toEqual({
      date: "3 de nov. de 2018",
      time: false,
    });
  });
});

describe("the points expiring soon, one line per end as it is shown", () => {
  it("adds up the lots that end within one shown minute, keeps other times and days apart, earliest first", () => {
    const lines = expiryLines(
      [
        { expires_at: "2026-04-01T13:30:00.000Z", points: 3 },
        // Two purchases at 15:00 on 2 March, seconds apart, and the end of March.
        { expires_at: "2026-04-01T13:00:10.123Z", points: 5 },
        { expires_at: "2026-04-01T13:00:50.456Z", points: 7 },
        { expires_at: "2026-03-31T22:00:00.000Z", points: 2 },
      ],
      "en-GB",
      "Europe/Amsterdam",
    );
    expect(lines.map(({ date, time, points }) => ({ date: words(date), time, points }))).toEqual([
      { date: "31 Mar 2026", time: false, points: 2 },
      { date: "1 Apr 2026, 15:00", time: true, points: 12 },
      { date: "1 Apr 2026, 15:30", time: true, points: 3 },
    ]);
    expect(new Set(lines.map((l) => l.key)).size).toBe(3);
  });

  it("keeps a whole day and a time on that same date apart", () => {
    // The end of 31 March (midnight) and points ending at 15:00 on 31 March.
    const lines = expiryLines(
      [
        { expires_at: "2026-03-31T13:00:00.000Z", points: 4 },
        { expires_at: "2026-03-31T22:00:00.000Z", points: 6 },
      ],
      "nl",
      "Europe/Amsterdam",
    );
    expect(lines.map(({ date, time, points }) => ({ date, time, points }))).toEqual([
      { date: "31 mrt 2026, 15:00", time: true, points: 4 },
      { date: "31 mrt 2026", time: false, points: 6 },
    ]);
  });

  it("has nothing to show for no lots", () => {
    expect(expiryLines([], "en", "UTC")).toEqual([]);
  });
});
