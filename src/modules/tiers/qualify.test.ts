import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  decideTier,
  lastReachedBy,
  needsLastYearMetric,
  nextTierState,
  qualifyingTier,
  type RefundMetrics,
  retainedUntil,
  retentionEnded,
  type TierLevel,
  type TierState,
  tierAfterRefund,
  windowStart,
} from "./qualify.ts";

const silver: TierLevel = { id: "s", name: "Silver", rank: 1, threshold: 0, earn_multiplier_bp: 10_000 };
const gold: TierLevel = { id: "g", name: "Gold", rank: 2, threshold: 25_000, earn_multiplier_bp: 12_500 };
const platinum: TierLevel = {
  id: "p",
  name: "Platinum",
  rank: 3,
  threshold: 75_000,
  earn_multiplier_bp: 15_000,
};
const tiers = [silver, gold, platinum];
const NOW = new Date("2026-06-15T12:00:00Z");

describe("qualifyingTier", () => {
  it.each([
    [0, "s"],
    [24_999, "s"],
    [25_000, "g"],
    [74_999, "g"],
    [75_000, "p"],
    [10_000_000, "p"],
  ])("a metric of %i reaches %s", (metric, id) => {
    expect(qualifyingTier(tiers, metric)?.id).toBe(id);
  });
  it("reaches no tier below the lowest threshold", () => {
    expect(qualifyingTier([gold], 100)).toBeNull();
  });
});

describe("nextTierState", () => {
  const until = retainedUntil("calendar_year", NOW, "UTC");
  it("keeps a tier reached this year until the end of next year", () => {
    expect(until.toISOString()).toBe("2028-01-01T00:00:00.000Z");
  });
  it("upgrades at once", () => {
    expect(
      nextTierState(tiers, { tier_id: "s", expires_at: until }, 30_000, "calendar_year", NOW, "UTC"),
    ).toEqual({ tier_id: "g", expires_at: until });
  });
  it("does not downgrade while the tier is retained", () => {
    const held = { tier_id: "p", expires_at: new Date("2027-01-01T00:00:00Z") };
    expect(nextTierState(tiers, held, 100, "calendar_year", NOW, "UTC")).toEqual(held);
  });
  it("downgrades at the second the retention ends", () => {
    const held = { tier_id: "p", expires_at: NOW };
    expect(nextTierState(tiers, held, 30_000, "calendar_year", NOW, "UTC")).toEqual({
      tier_id: "g",
      expires_at: until,
    });
  });
  it("extends the retention when the same tier is reached again", () => {
    const held = { tier_id: "g", expires_at: new Date("2027-01-01T00:00:00Z") };
    expect(nextTierState(tiers, held, 25_000, "calendar_year", NOW, "UTC").expires_at).toEqual(until);
  });
  it("drops to no tier when none is reached and none is held", () => {
    expect(
      nextTierState([gold], { tier_id: null, expires_at: null }, 10, "calendar_year", NOW, "UTC"),
    ).toEqual({ tier_id: null, expires_at: null });
  });
  it("counts rolling windows from twelve months back", () => {
    // A purchase exactly twelve months old has left the window.
    expect(windowStart("rolling_12_months", NOW, "UTC").toISOString()).toBe("2025-06-15T12:00:00.001Z");
    expect(retainedUntil("rolling_12_months", NOW, "UTC").toISOString()).toBe("2027-06-15T12:00:00.000Z");
  });
  it.each([
    ["29 February", "UTC", "2028-02-29T10:00:00Z"],
    ["the repeated hour's second pass", "Europe/Amsterdam", "2026-10-25T01:30:00Z"],
    ["an ordinary day", "Europe/Amsterdam", "2026-06-15T10:00:00Z"],
  ])("lets a purchase of %s leave the window the instant the tier it reached ends", (_name, zone, at) => {
    const reached = new Date(at);
    const ends = retainedUntil("rolling_12_months", reached, zone);
    expect(windowStart("rolling_12_months", ends, zone).getTime()).toBeGreaterThan(reached.getTime());
    // A moment before, it still counts.
    expect(
      windowStart("rolling_12_months", new Date(ends.getTime() - 1), zone).getTime(),
    ).toBeLessThanOrEqual(reached.getTime());
  });
  it("never lets the purchase that reached a rolling tier reach it again when it ends", () => {
    const zones = [
      "UTC",
      "Europe/Amsterdam",
      "America/Los_Angeles",
      "Pacific/Auckland",
      "Australia/Lord_Howe",
    ];
    fc.assert(
      fc.property(
        fc.integer({ min: Date.UTC(2024, 0, 1), max: Date.UTC(2034, 0, 1) }),
        fc.constantFrom(...zones),
        (ms, zone) => {
          const reached = new Date(ms);
          const ends = retainedUntil("rolling_12_months", reached, zone);
          return windowStart("rolling_12_months", ends, zone).getTime() > reached.getTime();
        },
      ),
      { numRuns: 2_000 },
    );
  });
  it("starts the calendar year on the business's clock", () => {
    expect(windowStart("calendar_year", NOW, "Europe/Warsaw").toISOString()).toBe("2025-12-31T23:00:00.000Z");
  });
});

describe("a tier whose retention has ended", () => {
  const END = new Date("2028-01-01T00:00:00Z");
  it.each([
    ["ends at the instant of expiry", { tier_id: "g", expires_at: END }, END, true],
    ["holds a millisecond before", { tier_id: "g", expires_at: END }, new Date(END.getTime() - 1), false],
    ["has ended after it", { tier_id: "g", expires_at: END }, new Date("2028-03-01T00:00:00Z"), true],
    ["has ended without a retention date", { tier_id: "g", expires_at: null }, END, true],
    ["is not there without a tier", { tier_id: null, expires_at: null }, END, false],
  ])("%s", (_label, held, now, ended) => {
    expect(retentionEnded(held, now)).toBe(ended);
  });

  it.each([
    ["calendar_year", { tier_id: "g", expires_at: END }, END, true],
    ["calendar_year", { tier_id: "g", expires_at: END }, new Date(END.getTime() - 1), false],
    ["calendar_year", { tier_id: null, expires_at: null }, END, false],
    ["rolling_12_months", { tier_id: "g", expires_at: END }, END, false],
  ] as const)("with %s, needs last year's metric: %o at %s → %s", (period, held, now, needed) => {
    expect(needsLastYearMetric(period, held, now)).toBe(needed);
  });
});

describe("nextTierState when a calendar-year tier ends: the year just ended still counts", () => {
  // Thresholds above zero, so a metric of 0 reaches no tier.
  const bronze: TierLevel = {
    id: "b",
    name: "Bronze",
    rank: 1,
    threshold: 10_000,
    earn_multiplier_bp: 10_000,
  };
  const ladder = [bronze, { ...gold }, { ...platinum }];
  const END = new Date("2028-01-01T00:00:00Z");
  const LATER = new Date("2028-03-10T12:00:00Z");
  const Y2029 = new Date("2029-01-01T00:00:00Z");
  const Y2030 = new Date("2030-01-01T00:00:00Z");
  const gold2026 = { tier_id: "g", expires_at: END };
  it.each([
    // label, held, now, this year's metric, last year's metric, tier, kept until, kept on last year
    [
      "2027 reached Bronze, 2028 nothing yet: Bronze through 2028",
      gold2026,
      END,
      0,
      10_000,
      "b",
      Y2029,
      true,
    ],
    ["the same, swept late in 2028", gold2026, LATER, 0, 10_000, "b", Y2029, true],
    [
      "a millisecond before the end: Gold holds",
      gold2026,
      new Date(END.getTime() - 1),
      0,
      10_000,
      "g",
      END,
      false,
    ],
    ["2027 reached Gold again: Gold through 2028", gold2026, END, 0, 25_000, "g", Y2029, true],
    ["2027 just below Bronze: no tier", gold2026, END, 0, 9_999, null, null, false],
    [
      "both years reach Bronze: this year's, kept a year longer",
      gold2026,
      LATER,
      10_000,
      24_999,
      "b",
      Y2030,
      false,
    ],
    ["this year reaches higher: Gold until 2030", gold2026, LATER, 25_000, 10_000, "g", Y2030, false],
    [
      "last year reached higher: Gold through 2028",
      { tier_id: "p", expires_at: END },
      LATER,
      10_000,
      30_000,
      "g",
      Y2029,
      true,
    ],
    ["this year reaches above the ended tier: Platinum", gold2026, LATER, 80_000, 30_000, "p", Y2030, false],
    // Last year's metric is read for a member without a tier only when a purchase of last year
    // arrives this year (a till's offline queue): what that year reached holds through this one.
    [
      "no tier held, a late purchase of last year: what last year reached, through this year",
      { tier_id: null, expires_at: null },
      LATER,
      0,
      30_000,
      "g",
      Y2029,
      true,
    ],
    [
      "Bronze held, a late purchase of last year reaches Gold: Gold through this year",
      { tier_id: "b", expires_at: Y2029 },
      LATER,
      0,
      30_000,
      "g",
      Y2029,
      true,
    ],
    [
      "Platinum held: a late purchase of last year reaching Gold changes nothing",
      { tier_id: "p", expires_at: Y2029 },
      LATER,
      0,
      30_000,
      "p",
      Y2029,
      false,
    ],
    [
      "this year reaches Gold too: this year's, kept a year longer",
      { tier_id: "b", expires_at: Y2029 },
      LATER,
      30_000,
      30_000,
      "g",
      Y2030,
      false,
    ],
  ] as const)("%s", (_label, held, now, metric, lastYear, tier, until, kept) => {
    const decision = decideTier(ladder, held, metric, "calendar_year", now, "UTC", lastYear);
    expect(decision).toEqual({ state: { tier_id: tier, expires_at: until }, kept });
    expect(nextTierState(ladder, held, metric, "calendar_year", now, "UTC", lastYear)).toEqual(
      decision.state,
    );
  });

  it("reads the year on the business's clock", () => {
    const end = new Date("2027-12-31T23:00:00Z"); // 1 January 2028 in Warsaw
    expect(
      nextTierState(
        ladder,
        { tier_id: "g", expires_at: end },
        0,
        "calendar_year",
        end,
        "Europe/Warsaw",
        10_000,
      ),
    ).toEqual({ tier_id: "b", expires_at: new Date("2028-12-31T23:00:00Z") });
  });

  it("leaves a rolling window alone: its window at the end already covers the months that count", () => {
    const held = { tier_id: "g", expires_at: END };
    expect(nextTierState(ladder, held, 10_000, "rolling_12_months", END, "UTC", 30_000)).toEqual({
      tier_id: "b",
      expires_at: new Date("2029-01-01T00:00:00Z"),
    });
    expect(nextTierState(ladder, held, 0, "rolling_12_months", END, "UTC", 30_000)).toEqual({
      tier_id: null,
      expires_at: null,
    });
  });
});

describe("lastReachedBy: when a rolling tier was last reached, read back from its retention date", () => {
  it.each([
    ["UTC", "2026-06-15T12:00:00Z", "2026-06-15T12:00:59.999Z"],
    // The seconds go in the retention date: the tier may have been reached any time in that minute.
    ["UTC", "2026-06-15T12:00:42.5Z", "2026-06-15T12:00:59.999Z"],
    // 29 February 2028 is kept until 28 February 2029, as the 28th is.
    ["UTC", "2028-02-29T10:00:00Z", "2028-02-29T10:00:59.999Z"],
    ["UTC", "2028-02-28T10:00:00Z", "2028-02-29T10:00:59.999Z"],
    // 02:30 on 25 October 2026 in Amsterdam comes twice; the second (CET) is read back, not the first.
    ["Europe/Amsterdam", "2026-10-25T01:30:00Z", "2026-10-25T01:30:59.999Z"],
    ["Europe/Amsterdam", "2026-10-25T00:30:00Z", "2026-10-25T01:30:59.999Z"],
    ["Europe/Amsterdam", "2026-03-02T09:00:00Z", "2026-03-02T09:00:59.999Z"],
  ])("in %s, a tier reached at %s was last reached by %s", (zone, reached, by) => {
    const until = retainedUntil("rolling_12_months", new Date(reached), zone);
    expect(lastReachedBy(until, zone).toISOString()).toBe(by);
  });
});

describe("tierAfterRefund: a refund that undoes the qualification takes the tier back at once", () => {
  // Thresholds above zero, so a metric of 0 reaches no tier.
  const s: TierLevel = { id: "s", name: "Silver", rank: 1, threshold: 20_000, earn_multiplier_bp: 12_500 };
  const g: TierLevel = { id: "g", name: "Gold", rank: 2, threshold: 50_000, earn_multiplier_bp: 15_000 };
  const ladder = [s, g];
  const at = (iso: string) => new Date(iso);
  type Case = [
    label: string,
    held: TierState,
    purchaseAt: string,
    lowered: number,
    metrics: RefundMetrics,
    /** The tier the member is moved to and until when, and the metric left below Gold's; null: unchanged. */
    want: { tier: string | null; until: string | null; left: number } | null,
  ];

  describe("calendar_year", () => {
    const gold2026 = { tier_id: "g", expires_at: at("2028-01-01T00:00:00Z") };
    const gold2025 = { tier_id: "g", expires_at: at("2027-01-01T00:00:00Z") };
    const THIS_YEAR = "2026-03-01T10:00:00Z";
    const LAST_YEAR = "2025-11-01T10:00:00Z";
    const m = (metric: number, lastYear: number): RefundMetrics => ({ metric, lastYear, atReach: null });
    const cases: Case[] = [
      [
        "a full refund of the purchase that reached Gold: no tier",
        gold2026,
        THIS_YEAR,
        60_000,
        m(0, 0),
        { tier: null, until: null, left: 0 },
      ],
      ["exactly the threshold left: Gold kept", gold2026, THIS_YEAR, 10_000, m(50_000, 0), null],
      [
        "one euro across the line: Silver, reached this year",
        gold2026,
        THIS_YEAR,
        100,
        m(49_900, 0),
        { tier: "s", until: "2028-01-01T00:00:00.000Z", left: 49_900 },
      ],
      [
        "already below the threshold before the refund (raised since): Gold kept",
        gold2026,
        THIS_YEAR,
        5_000,
        m(30_000, 0),
        null,
      ],
      ["last year's Gold still holds: kept", gold2025, THIS_YEAR, 10_000, m(45_000, 60_000), null],
      [
        "this year's Gold undone: back to the Silver of last year, until next 1 January",
        gold2026,
        THIS_YEAR,
        60_000,
        m(0, 25_000),
        { tier: "s", until: "2027-01-01T00:00:00.000Z", left: 0 },
      ],
      [
        "last year's Gold undone by a refund of its purchase: this year's Silver",
        gold2025,
        LAST_YEAR,
        20_000,
        m(30_000, 40_000),
        { tier: "s", until: "2028-01-01T00:00:00.000Z", left: 40_000 },
      ],
      [
        "both years reach Silver: this year's, kept a year longer",
        gold2026,
        THIS_YEAR,
        25_000,
        m(30_000, 30_000),
        { tier: "s", until: "2028-01-01T00:00:00.000Z", left: 30_000 },
      ],
      [
        "a refund counted in this year crosses nothing of last year's Gold",
        gold2025,
        LAST_YEAR,
        5_000,
        m(0, 55_000),
        null,
      ],
      [
        "a purchase of two years ago counts in neither year: kept",
        gold2025,
        "2024-12-01T10:00:00Z",
        60_000,
        m(0, 0),
        null,
      ],
      [
        "a retention that has ended is the sweep's, not the refund's",
        { tier_id: "g", expires_at: NOW },
        THIS_YEAR,
        60_000,
        m(0, 0),
        null,
      ],
      ["nothing taken off the metric: kept", gold2026, THIS_YEAR, 0, m(0, 0), null],
      [
        "no tier held: nothing to take back",
        { tier_id: null, expires_at: null },
        THIS_YEAR,
        60_000,
        m(0, 0),
        null,
      ],
    ];
    it.each(cases)("%s", (_label, held, purchaseAt, lowered, metrics, want) => {
      const decision = tierAfterRefund(
        ladder,
        held,
        "calendar_year",
        NOW,
        "UTC",
        { purchaseAt: at(purchaseAt), lowered },
        metrics,
      );
      expect(
        decision && {
          tier: decision.state.tier_id,
          until: decision.state.expires_at?.toISOString() ?? null,
          left: decision.left,
        },
      ).toEqual(want);
    });
  });

  describe("rolling_12_months", () => {
    // Reached at 09:30:25 on 10 April 2026: kept until 09:30:25 on 10 April 2027.
    const REACHED = "2026-04-10T09:30:25Z";
    const gold = { tier_id: "g", expires_at: retainedUntil("rolling_12_months", at(REACHED), "UTC") };
    const UNTIL = "2027-04-10T09:30:25.000Z";
    const m = (atReach: number | null, metric: number): RefundMetrics => ({
      metric,
      lastYear: null,
      atReach,
    });
    const cases: Case[] = [
      [
        "a full refund of the purchase that reached Gold, in the same minute: no tier",
        gold,
        REACHED,
        60_000,
        m(0, 0),
        { tier: null, until: null, left: 0 },
      ],
      [
        "a purchase after Gold was last reached, the metric decayed: kept",
        gold,
        "2026-05-01T10:00:00Z",
        10_000,
        m(null, 0),
        null,
      ],
      ["a purchase before the window at reach: kept", gold, "2025-04-01T10:00:00Z", 60_000, m(null, 0), null],
      [
        "the window at reach still reaches Gold exactly: kept",
        gold,
        "2026-01-05T10:00:00Z",
        10_000,
        m(50_000, 0),
        null,
      ],
      [
        "one euro across the line at reach: Silver until the same date",
        gold,
        "2026-01-05T10:00:00Z",
        100,
        m(49_900, 10_000),
        { tier: "s", until: UNTIL, left: 49_900 },
      ],
      [
        "both windows reach Silver: the current one's, kept 12 months from now",
        gold,
        "2026-01-05T10:00:00Z",
        30_000,
        m(30_000, 25_000),
        { tier: "s", until: "2027-06-15T12:00:00.000Z", left: 30_000 },
      ],
      [
        "the current window reaches only Silver, the window at reach nothing: Silver from now",
        gold,
        REACHED,
        60_000,
        m(0, 20_000),
        { tier: "s", until: "2027-06-15T12:00:00.000Z", left: 0 },
      ],
      [
        "the current window still reaches Gold: kept",
        gold,
        "2026-01-05T10:00:00Z",
        30_000,
        m(40_000, 55_000),
        null,
      ],
      [
        "already below the threshold before the refund (raised since): kept",
        gold,
        "2026-01-05T10:00:00Z",
        5_000,
        m(30_000, 0),
        null,
      ],
    ];
    it.each(cases)("%s", (_label, held, purchaseAt, lowered, metrics, want) => {
      const decision = tierAfterRefund(
        ladder,
        held,
        "rolling_12_months",
        NOW,
        "UTC",
        { purchaseAt: at(purchaseAt), lowered },
        metrics,
      );
      expect(
        decision && {
          tier: decision.state.tier_id,
          until: decision.state.expires_at?.toISOString() ?? null,
          left: decision.left,
        },
      ).toEqual(want);
    });
  });

  it("says what reaches the tier it moves to: last year's metric, with the year, or this period's", () => {
    const held = { tier_id: "g", expires_at: at("2028-01-01T00:00:00Z") };
    const refund = { purchaseAt: at("2026-03-01T10:00:00Z"), lowered: 60_000 };
    const decide = (metric: number, lastYear: number) =>
      tierAfterRefund(ladder, held, "calendar_year", NOW, "UTC", refund, { metric, lastYear, atReach: null });
    expect(decide(0, 25_000)?.reached).toEqual({ metric: 25_000, lastYear: true });
    expect(decide(21_000, 0)?.reached).toEqual({ metric: 21_000, lastYear: false });
    expect(decide(0, 0)?.reached).toBeNull();
  });
});
