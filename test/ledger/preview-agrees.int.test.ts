import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * Property: "what would this purchase earn?" says exactly what recording it then earns. A café
 * gets random earning rules (every kind of condition and effect, caps, priorities, rules that stop
 * the others), tiers and a stamp card; its members make random purchases at random local times,
 * and before each one the preview is asked. The preview prices as the locked path does; the
 * purchase itself goes the two-statement way: the two must agree line by line, caps already used
 * by earlier purchases, a first purchase and a tier reached on the way included.
 */

let t: TestApp;
beforeAll(async () => {
  // A Monday morning in Warsaw.
  t = await startTestApp({ now: "2026-03-02T09:30:00Z" });
});
afterAll(async () => t?.close());

async function ok(tenant: Tenant, method: "POST" | "PUT", url: string, body: unknown) {
  const res = await tenant.call(method, url, body);
  if (res.status >= 300) throw new Error(`${method} ${url} → ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

interface Refs {
  card: string;
  silver: string;
  gold: string;
}

type Rule = (refs: Refs) => Record<string, unknown>;

const conditions: fc.Arbitrary<(refs: Refs) => Record<string, unknown>> = fc
  .record({
    min_spend_minor: fc.integer({ min: 0, max: 3_000 }),
    items: fc.oneof(
      fc.constant({ categories: ["coffee"] }),
      fc.constant({ skus: ["cake"] }),
      fc.constant({ categories: ["coffee"], min_quantity: 2 }),
    ),
    days_of_week: fc.uniqueArray(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 7 }),
    time_window: fc.record({
      from: fc.constantFrom("07:00", "10:30", "22:00"),
      to: fc.constantFrom("09:00", "12:00", "02:00"),
    }),
    first_purchase: fc.boolean(),
    tier: fc.constantFrom("silver", "gold"),
    member_attributes: fc.constantFrom(
      [{ key: "vip", op: "eq", value: true }],
      [{ key: "visits", op: "gte", value: 3 }],
      [{ key: "city", op: "in", value: ["Kraków", "Gdańsk"] }],
      [{ key: "vip", op: "exists" }],
    ),
  })
  // Two conditions at most, so that rules apply often enough to be compared.
  .chain((all) =>
    fc
      .subarray(Object.keys(all) as (keyof typeof all)[], { maxLength: 2 })
      .map((keys) => Object.fromEntries(keys.map((k) => [k, all[k]])) as Partial<typeof all>),
  )
  .map(({ tier, ...rest }) => (refs: Refs) => ({
    ...rest,
    ...(tier ? { tier_ids: [tier === "silver" ? refs.silver : refs.gold] } : {}),
  }));

const effect: fc.Arbitrary<(refs: Refs) => Record<string, unknown>> = fc.oneof(
  fc.integer({ min: 1, max: 50 }).map((points) => () => ({ type: "fixed_points", points })),
  fc
    .record({
      points: fc.integer({ min: 1, max: 5 }),
      per_minor: fc.constantFrom(100, 250, 1_000),
      scope: fc.constantFrom("order", "matching_items"),
    })
    .map((e) => () => ({ type: "points_per_spend", ...e })),
  fc.constantFrom(15_000, 20_000, 30_000).map((factor_bp) => () => ({ type: "multiplier", factor_bp })),
  fc.integer({ min: 1, max: 2 }).map((stamps) => (refs: Refs) => ({
    type: "stamps",
    stamp_card_id: refs.card,
    stamps,
  })),
);

const cap = fc.option(
  fc.oneof(
    fc.record({
      period: fc.constantFrom("day", "week", "month", "lifetime"),
      max_times: fc.integer({ min: 1, max: 3 }),
    }),
    fc.record({
      period: fc.constantFrom("day", "week", "month"),
      max_points: fc.integer({ min: 5, max: 60 }),
    }),
  ),
  { nil: undefined },
);

const rule: fc.Arbitrary<Rule> = fc
  .record({
    conditions,
    effect,
    cap,
    priority: fc.integer({ min: 0, max: 5 }),
    stop_processing: fc.boolean(),
  })
  .map((r) => (refs: Refs) => {
    const effect = r.effect(refs);
    // A stamp rule is capped by times only (max_points is refused for it).
    const capped =
      r.cap && effect.type === "stamps" && "max_points" in r.cap
        ? { period: r.cap.period, max_times: 2 }
        : r.cap;
    // Points on matching items need items to match.
    const conditions = r.conditions(refs);
    if (effect.scope === "matching_items" && !conditions.items) conditions.items = { categories: ["coffee"] };
    return {
      name: "Rule",
      trigger: "purchase",
      priority: r.priority,
      stop_processing: r.stop_processing,
      conditions,
      effect,
      ...(capped ? { cap: capped } : {}),
    };
  });

const purchase = fc.record({
  member: fc.integer({ min: 0, max: 2 }),
  amount: fc.integer({ min: 0, max: 4_000 }),
  coffees: fc.integer({ min: 0, max: 3 }),
  cakes: fc.integer({ min: 0, max: 2 }),
  // Hours before the clock's now (Monday 10:30 in Warsaw): the morning, last night, last week.
  hoursAgo: fc.constantFrom(0, 1, 3, 9, 13, 26, 24 * 6, 24 * 20),
});

describe("the preview of a purchase", () => {
  it("earns what recording it then earns, line by line, for any rules", async () => {
    // What the rules gave over the run: a property that only ever compared base points would pass
    // for nothing.
    const seen = { ruleLines: 0, stamps: 0, capped: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(rule, { minLength: 1, maxLength: 5 }),
        fc.array(purchase, { minLength: 1, maxLength: 8 }),
        fc.constantFrom("none", "amount_spent", "points_earned"),
        async (rules, purchases, pointsOnly) => {
          const tenant = await t.signup({ timezone: "Europe/Warsaw", currency: "PLN" });
          const card = await ok(tenant, "POST", "/v1/stamp-cards", {
            name: "Coffee card",
            stamps_required: 5,
            earn_on: "item",
            item_match: { categories: ["coffee"] },
          });
          const metric = pointsOnly === "points_earned" ? 30 : 2_000;
          const silver = await ok(tenant, "POST", "/v1/tiers", {
            name: "Silver",
            rank: 1,
            threshold: metric,
            earn_multiplier_bp: 12_500,
          });
          const gold = await ok(tenant, "POST", "/v1/tiers", {
            name: "Gold",
            rank: 2,
            threshold: metric * 3,
            earn_multiplier_bp: 15_000,
          });
          const refs = { card: card.id, silver: silver.id, gold: gold.id };
          for (const r of rules) await ok(tenant, "POST", "/v1/rules", r(refs));
          const members = [];
          for (const attributes of [{ vip: true, visits: 5 }, { city: "Kraków", visits: "2" }, {}]) {
            members.push(
              (await ok(tenant, "POST", "/v1/members", { name: "M", marketing_consent: false, attributes }))
                .id,
            );
          }
          for (const [i, p] of purchases.entries()) {
            const body = {
              member_id: members[p.member],
              amount_minor: p.amount,
              currency: "PLN",
              occurred_at: new Date(t.clock.now().getTime() - p.hoursAgo * 3_600_000).toISOString(),
              items: [
                ...(p.coffees
                  ? [{ sku: "flat-white", category: "coffee", quantity: p.coffees, unit_price_minor: 450 }]
                  : []),
                ...(p.cakes
                  ? [{ sku: "cake", category: "bakery", quantity: p.cakes, unit_price_minor: 900 }]
                  : []),
              ],
            };
            const preview = await ok(tenant, "POST", "/v1/purchases/preview", body);
            const recorded = await ok(tenant, "POST", "/v1/purchases", { ...body, external_id: `p-${i}` });
            expect(
              {
                points: recorded.earned.points,
                stamps: recorded.earned.stamps,
                total: recorded.purchase.points_earned,
              },
              `purchase ${i}: ${JSON.stringify(body)}`,
            ).toEqual({ points: preview.points, stamps: preview.stamps, total: preview.total_points });
            seen.ruleLines += recorded.earned.points.filter(
              (l: { rule_id: string | null }) => l.rule_id,
            ).length;
            seen.stamps += recorded.earned.stamps.length;
            seen.capped += recorded.earned.points.filter((l: { reason_code: string | null }) =>
              l.reason_code?.includes("cap"),
            ).length;
          }
        },
      ),
      { numRuns: Number(process.env.PREVIEW_RUNS ?? 25) },
    );
    if (process.env.PREVIEW_SHOW) console.log(seen);
    expect(seen.ruleLines).toBeGreaterThan(10);
    expect(seen.stamps).toBeGreaterThan(5);
  });
});
