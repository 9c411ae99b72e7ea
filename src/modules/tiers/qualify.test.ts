import { describe, expect, it } from "vitest";
import { nextTierState, qualifyingTier, retainedUntil, type TierLevel, windowStart } from "./qualify.ts";

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
    expect(windowStart("rolling_12_months", NOW, "UTC").toISOString()).toBe("2025-06-15T12:00:00.000Z");
    expect(retainedUntil("rolling_12_months", NOW, "UTC").toISOString()).toBe("2027-06-15T12:00:00.000Z");
  });
  it("starts the calendar year on the business's clock", () => {
    expect(windowStart("calendar_year", NOW, "Europe/Warsaw").toISOString()).toBe("2025-12-31T23:00:00.000Z");
  });
});
