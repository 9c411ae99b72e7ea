import { describe, expect, it } from "vitest";
import { type EvaluationInput, evaluateRules, inTimeWindow, round } from "./evaluate.ts";
import type { Rule } from "./schema.ts";

// Monday 2026-03-02, 07:30 in Amsterdam (UTC+1).
const MONDAY_0730 = new Date("2026-03-02T06:30:00Z");

function rule(partial: Partial<Rule> & Pick<Rule, "effect">): Rule {
  return {
    id: partial.id ?? "r1",
    name: partial.name ?? "Rule",
    trigger: "purchase",
    event_type: null,
    priority: 100,
    stop_processing: false,
    conditions: {},
    cap: null,
    starts_at: null,
    ends_at: null,
    active: true,
    ...partial,
  };
}

function input(partial: Partial<EvaluationInput> = {}): EvaluationInput {
  return {
    timeZone: "Europe/Amsterdam",
    occurredAt: MONDAY_0730,
    rounding: "floor",
    basePoints: 10,
    purchase: {
      amount_minor: 1000,
      items: [
        { sku: "latte", category: "coffee", brand: "house", quantity: 2, unit_price_minor: 350 },
        { sku: "croissant", category: "pastry", quantity: 1, unit_price_minor: 300 },
      ],
      location_id: "loc-1",
    },
    member: { tier_id: "gold", attributes: { city: "Utrecht", visits: 12 }, is_first_purchase: false },
    capUsage: new Map(),
    pointsEnabled: true,
    stampCardIds: new Set(["card-1"]),
    ...partial,
  };
}

const fixed = { type: "fixed_points" as const, points: 5 };

describe("rule conditions", () => {
  it.each([
    ["no conditions", {}, true],
    ["minimum spend met exactly", { min_spend_minor: 1000 }, true],
    ["minimum spend missed by one cent", { min_spend_minor: 1001 }, false],
    ["an item of the category", { items: { categories: ["coffee"] } }, true],
    ["two items of the sku", { items: { skus: ["latte"], min_quantity: 2 } }, true],
    ["three items of the sku", { items: { skus: ["latte"], min_quantity: 3 } }, false],
    ["a brand that is not in the basket", { items: { brands: ["acme"] } }, false],
    ["Monday", { days_of_week: [1] }, true],
    ["weekend only", { days_of_week: [6, 7] }, false],
    ["07:00–09:00 local", { time_window: { from: "07:00", to: "09:00" } }, true],
    ["07:30 is the start, inclusive", { time_window: { from: "07:30", to: "08:00" } }, true],
    ["07:30 is the end, exclusive", { time_window: { from: "07:00", to: "07:30" } }, false],
    ["a window across midnight", { time_window: { from: "22:00", to: "08:00" } }, true],
    ["the member's tier", { tier_ids: ["gold"] }, true],
    ["another tier", { tier_ids: ["silver"] }, false],
    ["first purchase only", { first_purchase: true }, false],
    ["not the first purchase", { first_purchase: false }, true],
    ["the location", { location_ids: ["loc-1"] }, true],
    ["another location", { location_ids: ["loc-2"] }, false],
    [
      "an attribute equal",
      { member_attributes: [{ key: "city", op: "eq" as const, value: "Utrecht" }] },
      true,
    ],
    [
      "an attribute in a list",
      { member_attributes: [{ key: "city", op: "in" as const, value: ["Delft", "Utrecht"] }] },
      true,
    ],
    [
      "a numeric attribute at least",
      { member_attributes: [{ key: "visits", op: "gte" as const, value: 12 }] },
      true,
    ],
    [
      "a numeric attribute above",
      { member_attributes: [{ key: "visits", op: "gt" as const, value: 12 }] },
      false,
    ],
    ["a missing attribute exists", { member_attributes: [{ key: "pet", op: "exists" as const }] }, false],
    [
      "a string compared with a number",
      { member_attributes: [{ key: "city", op: "gt" as const, value: 3 }] },
      false,
    ],
    // A number and its digits as text are equal (a postcode from a POS, a value typed in the dashboard).
    [
      "a number equal to its digits",
      { member_attributes: [{ key: "visits", op: "eq" as const, value: "12" }] },
      true,
    ],
    [
      "a number among digits",
      { member_attributes: [{ key: "visits", op: "in" as const, value: ["12"] }] },
      true,
    ],
    [
      "a number not unequal to its digits",
      { member_attributes: [{ key: "visits", op: "neq" as const, value: "12" }] },
      false,
    ],
    [
      "a number and other digits",
      { member_attributes: [{ key: "visits", op: "eq" as const, value: "012" }] },
      false,
    ],
  ])("%s → %s", (_name, conditions, applies) => {
    expect(evaluateRules([rule({ conditions, effect: fixed })], input()).length).toBe(applies ? 1 : 0);
  });

  it("uses the business's time zone for days and hours", () => {
    // 23:30 UTC on Sunday is 00:30 on Monday in Amsterdam.
    const late = input({ occurredAt: new Date("2026-03-01T23:30:00Z") });
    expect(evaluateRules([rule({ conditions: { days_of_week: [1] }, effect: fixed })], late)).toHaveLength(1);
  });

  // Friday night: 22:00 to 02:00. Amsterdam is UTC+1 in November.
  it.each([
    ["Friday 23:00", "2026-11-20T22:00:00Z", true],
    ["Saturday 01:00, still Friday night", "2026-11-21T00:00:00Z", true],
    ["Saturday 02:00, the end, exclusive", "2026-11-21T01:00:00Z", false],
    ["Friday 01:00, Thursday night", "2026-11-20T00:00:00Z", false],
    ["Saturday 23:00", "2026-11-21T22:00:00Z", false],
    ["Monday 00:30 for a Sunday night, across the week's end", "2026-11-22T23:30:00Z", false],
  ])("a window past midnight belongs to the evening it starts on: %s → %s", (_name, at, applies) => {
    const friday = rule({
      conditions: { days_of_week: [5], time_window: { from: "22:00", to: "02:00" } },
      effect: fixed,
    });
    expect(evaluateRules([friday], input({ occurredAt: new Date(at) }))).toHaveLength(applies ? 1 : 0);
  });

  it("counts the small hours of Monday to a Sunday-night window", () => {
    const sunday = rule({
      conditions: { days_of_week: [7], time_window: { from: "22:00", to: "02:00" } },
      effect: fixed,
    });
    const mondayHalfPastMidnight = input({ occurredAt: new Date("2026-11-22T23:30:00Z") });
    expect(evaluateRules([sunday], mondayHalfPastMidnight)).toHaveLength(1);
  });

  it.each([
    ["a number as text, at least a number", "30", "gte", 18, true],
    ["a number as text, below a number", "9", "gte", 18, false],
    ["digits against digits compare as numbers", "9", "gte", "18", false],
    ["a number against digits", 30, "gt", "18", true],
    ["decimals as text", "4.5", "lt", 5, true],
    ["negative numbers as text", "-2", "lt", "1", true],
    ["text that is no number, against a number", "abc", "gt", 3, false],
    ["dates as text compare as text", "2026-03-01", "lt", "2026-04-01", true],
    ["a boolean cannot be ordered", true, "gt", 0, false],
  ] as const)("%s: %j %s %j → %s", (_name, actual, op, value, applies) => {
    const r = rule({ conditions: { member_attributes: [{ key: "x", op, value }] }, effect: fixed });
    const member = { tier_id: null, attributes: { x: actual }, is_first_purchase: false };
    expect(evaluateRules([r], input({ member }))).toHaveLength(applies ? 1 : 0);
  });

  it("applies only within the rule's dates, end exclusive", () => {
    const r = rule({ effect: fixed, starts_at: new Date("2026-03-01T00:00:00Z"), ends_at: MONDAY_0730 });
    expect(evaluateRules([r], input())).toHaveLength(0);
    expect(evaluateRules([r], input({ occurredAt: new Date(MONDAY_0730.getTime() - 1) }))).toHaveLength(1);
  });
});

describe("rule effects", () => {
  it.each([
    ["fixed points", fixed, 5],
    [
      "points per spend of the order",
      { type: "points_per_spend" as const, points: 1, per_minor: 300, scope: "order" as const },
      3,
    ],
    ["double points", { type: "multiplier" as const, factor_bp: 20_000 }, 10],
    ["1.25× rounds down", { type: "multiplier" as const, factor_bp: 12_500 }, 2],
  ])("%s", (_name, effect, points) => {
    expect(evaluateRules([rule({ effect })], input())[0]?.points).toBe(points);
  });

  it("counts only matching items for a matching-items spend rule", () => {
    const r = rule({
      conditions: { items: { categories: ["coffee"] } },
      effect: { type: "points_per_spend", points: 2, per_minor: 100, scope: "matching_items" },
    });
    expect(evaluateRules([r], input())[0]?.points).toBe(14);
  });

  it.each([
    // Listed at 1000, 700 of it coffee: paid 500 is half of each item's price.
    ["paid half the list", 500, 7],
    ["paid nothing (a coupon on the whole order)", 0, 0],
    ["paid the list", 1000, 14],
    ["paid above the list: the items' own prices", 1200, 14],
  ])("counts matching items at most at their share of what was paid: %s", (_name, paid, points) => {
    const r = rule({
      conditions: { items: { categories: ["coffee"] } },
      effect: { type: "points_per_spend", points: 2, per_minor: 100, scope: "matching_items" },
    });
    const purchase = {
      ...(input().purchase as NonNullable<EvaluationInput["purchase"]>),
      amount_minor: paid,
    };
    expect(evaluateRules([r], input({ purchase }))[0]?.points ?? 0).toBe(points);
  });

  it("gives stamps with zero points", () => {
    const r = rule({ effect: { type: "stamps", stamp_card_id: "card-1", stamps: 2 } });
    expect(evaluateRules([r], input())[0]).toMatchObject({
      points: 0,
      stamps: { stamp_card_id: "card-1", stamps: 2 },
    });
  });
});

describe("priority, stacking and caps", () => {
  it("stops after a rule that says so", () => {
    const rules = [rule({ id: "a", effect: fixed, stop_processing: true }), rule({ id: "b", effect: fixed })];
    expect(evaluateRules(rules, input()).map((o) => o.rule_id)).toEqual(["a"]);
  });
  it("goes past a rule that stops but can give nothing: points switched off, or its card archived", () => {
    const stampsOnOld = { type: "stamps" as const, stamp_card_id: "card-old", stamps: 1 };
    const rules = [
      rule({ id: "a", effect: stampsOnOld, stop_processing: true }),
      rule({ id: "b", effect: fixed, stop_processing: true }),
      rule({ id: "c", effect: { type: "stamps", stamp_card_id: "card-1", stamps: 1 } }),
    ];
    expect(evaluateRules(rules, input()).map((o) => o.rule_id)).toEqual(["b"]);
    expect(evaluateRules(rules, input({ pointsEnabled: false })).map((o) => o.rule_id)).toEqual(["c"]);
  });
  it("stacks rules that do not stop", () => {
    const rules = [rule({ id: "a", effect: fixed }), rule({ id: "b", effect: fixed })];
    expect(evaluateRules(rules, input())).toHaveLength(2);
  });
  it("skips a rule whose times are used up", () => {
    const r = rule({ effect: fixed, cap: { period: "month", max_times: 1 } });
    expect(evaluateRules([r], input({ capUsage: new Map([["r1", { times: 1, points: 5 }]]) }))).toHaveLength(
      0,
    );
  });
  it("gives only what is left under a points cap", () => {
    const r = rule({ effect: { type: "fixed_points", points: 50 }, cap: { period: "day", max_points: 60 } });
    const out = evaluateRules([r], input({ capUsage: new Map([["r1", { times: 1, points: 45 }]]) }));
    expect(out[0]?.points).toBe(15);
  });
  it("skips an inactive rule", () => {
    expect(evaluateRules([rule({ effect: fixed, active: false })], input())).toHaveLength(0);
  });
});

describe("round and inTimeWindow", () => {
  it.each([
    [2.5, "floor", 2],
    [2.5, "round", 3],
    [2.1, "ceil", 3],
    [2.9999999999, "floor", 3],
    [0, "ceil", 0],
  ] as const)("round(%d, %s) = %d", (v, mode, expected) => {
    expect(round(v, mode)).toBe(expected);
  });
  it("treats the end of a window as outside it", () => {
    expect(inTimeWindow(9 * 60, { from: "07:00", to: "09:00" })).toBe(false);
    expect(inTimeWindow(7 * 60, { from: "07:00", to: "09:00" })).toBe(true);
  });
});
