import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";

/**
 * A currency corrected before the first purchase (`PATCH /v1/business {currency}`) takes every
 * money amount of the program along, by what the two currencies are worth
 * (src/shared/price-level.ts: €1 ≈ 400 Ft ≈ ¥150), rounded to round amounts: a euro boutique
 * switched to forints gives 4,000 Ft off, not 1,000 Ft, and Gold is at 200,000 Ft, not 50,000.
 */

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t?.close());

async function ok(tenant: Tenant, method: "POST" | "PATCH" | "PUT", url: string, body: unknown) {
  const res = await tenant.call(method, url, body);
  expect(res.status, JSON.stringify(res.body)).toBeLessThan(300);
  return res.body;
}

const list = async (tenant: Tenant, url: string) =>
  (await tenant.call("GET", `${url}${url.includes("?") ? "&" : "?"}limit=200`)).body.data;

describe("correcting the currency converts the program's amounts", () => {
  it("EUR → HUF after the boutique template: rate, tiers, discount, its name, cards, rules and rewards", async () => {
    const tenant = await t.signup({ currency: "EUR", locale: "en" });
    await ok(tenant, "POST", "/v1/program/templates/boutique_tiers", { reward_name: "€10.00 off" });
    await ok(tenant, "POST", "/v1/stamp-cards", {
      name: "Lunch",
      stamps_required: 5,
      earn_on: "purchase",
      min_spend_minor: 1_000,
    });
    const rule = await ok(tenant, "POST", "/v1/rules", {
      name: "Big basket",
      trigger: "purchase",
      conditions: { min_spend_minor: 5_000 },
      effect: { type: "points_per_spend", points: 1, per_minor: 200, scope: "order" },
    });
    const capped = await ok(tenant, "POST", "/v1/rewards", {
      name: "10 % off",
      type: "discount_percent",
      value: { percent: 10, max_discount_minor: 2_500 },
      cost_points: 150,
    });
    const gift = await ok(tenant, "POST", "/v1/rewards", {
      name: "A gift to the shelter",
      type: "donation",
      value: { cause: "Shelter", amount_minor: 300 },
      cost_points: 60,
    });
    const archived = await ok(tenant, "POST", "/v1/rewards", {
      name: "Old discount",
      type: "discount_amount",
      value: { amount_minor: 750 },
      cost_points: 100,
    });
    expect((await tenant.call("DELETE", `/v1/rewards/${archived.id}`)).status).toBe(200);

    expect((await tenant.call("PATCH", "/v1/business", { currency: "HUF" })).status).toBe(200);

    const program = (await tenant.call("GET", "/v1/program")).body.config;
    // €1 per point → about 400 Ft, as a round spend per point: 500 Ft.
    expect(program.points.earn_per_minor).toBe(500);
    const tiers = await list(tenant, "/v1/tiers");
    expect(tiers.map((x: { threshold: number }) => x.threshold)).toEqual([0, 200_000, 600_000]);
    const rewards = await list(tenant, "/v1/rewards?include_archived=true");
    const byId = (id: string) => rewards.find((r: { id: string }) => r.id === id);
    const discount = rewards.find(
      (r: { type: string; archived_at: string | null }) => r.type === "discount_amount" && !r.archived_at,
    );
    // The name said the amount in the business's language (en: "€10.00"): it says the new one.
    // (Intl writes a no-break space after "HUF".)
    expect([discount.name.replace(/\u00a0/g, " "), discount.value]).toEqual([
      "HUF 4,000 off",
      { amount_minor: 4_000 },
    ]);
    expect(byId(capped.id).value).toEqual({ percent: 10, max_discount_minor: 10_000 });
    expect(byId(gift.id).value).toEqual({ cause: "Shelter", amount_minor: 1_200 });
    // An archived reward moves too: restored, it is in forints.
    expect(byId(archived.id).value).toEqual({ amount_minor: 3_000 });
    const cards = await list(tenant, "/v1/stamp-cards");
    expect(cards.map((c: { min_spend_minor: number }) => c.min_spend_minor)).toEqual([4_000]);
    const rules = await list(tenant, "/v1/rules");
    expect(rules.find((r: { id: string }) => r.id === rule.id)).toMatchObject({
      conditions: { min_spend_minor: 20_000 },
      effect: { type: "points_per_spend", points: 1, per_minor: 1_000 },
    });
    // One audit record lists what moved.
    const log = (await tenant.call("GET", "/v1/audit-log?action=program.currency_converted")).body.data;
    expect(log).toHaveLength(1);
    expect(log[0].data).toMatchObject({ from: "EUR", to: "HUF" });
    expect(log[0].data.moved).toContainEqual({
      table: "tiers",
      id: tiers[1].id,
      field: "threshold",
      from: 50_000,
      to: 200_000,
    });

    // The review's repro: 200 Ft of spend no longer buys the discount.
    const member = await ok(tenant, "POST", "/v1/members", { name: "Ann", marketing_consent: false });
    const bought = await ok(tenant, "POST", "/v1/purchases", {
      external_id: "huf-1",
      member_id: member.id,
      amount_minor: 200,
      currency: "HUF",
    });
    expect(bought.purchase.points_earned).toBe(0);
    const redeem = await tenant.call("POST", `/v1/members/${member.id}/redemptions`, {
      reward_id: discount.id,
    });
    expect([redeem.status, redeem.body.error?.code]).toEqual([409, "insufficient_points"]);
  });

  it("between currencies worth the same (EUR → USD) keeps every figure, and names say the new currency", async () => {
    const tenant = await t.signup({ currency: "EUR", locale: "en" });
    await ok(tenant, "POST", "/v1/program/templates/boutique_tiers", {
      reward_name: "€10.00 off",
      tiers: [{}, { threshold: 48_000 }, {}],
    });
    const rule = await ok(tenant, "POST", "/v1/rules", {
      name: "Big basket",
      trigger: "purchase",
      conditions: { min_spend_minor: 4_750 },
      effect: { type: "points_per_spend", points: 1, per_minor: 150, scope: "order" },
    });
    expect((await tenant.call("PATCH", "/v1/business", { currency: "USD" })).status).toBe(200);
    expect((await tenant.call("GET", "/v1/program")).body.config.points.earn_per_minor).toBe(100);
    const tiers = await list(tenant, "/v1/tiers");
    expect(tiers.map((x: { threshold: number }) => x.threshold)).toEqual([0, 48_000, 150_000]);
    const [discount] = await list(tenant, "/v1/rewards");
    expect([discount.name, discount.value]).toEqual(["$10.00 off", { amount_minor: 1_000 }]);
    const [stored] = await list(tenant, "/v1/rules");
    expect([stored.id, stored.conditions, stored.effect.per_minor]).toEqual([
      rule.id,
      { min_spend_minor: 4_750 },
      150,
    ]);
  });

  it("keeps the tier ladder strictly increasing when rounding brings two thresholds together", async () => {
    const tenant = await t.signup({ currency: "EUR" });
    await ok(tenant, "POST", "/v1/program/templates/boutique_tiers", {
      tiers: [{}, { threshold: 50_000 }, { threshold: 52_000 }],
    });
    expect((await tenant.call("PATCH", "/v1/business", { currency: "HUF" })).status).toBe(200);
    // €500 → 200,000 Ft; €520 → 208,000 Ft would round to 200,000 too: it keeps the exact ratio.
    const tiers = await list(tenant, "/v1/tiers");
    expect(tiers.map((x: { threshold: number }) => x.threshold)).toEqual([0, 200_000, 208_000]);
  });

  it("leaves tiers by visits alone, and turns the sign-up default rate into the new currency's", async () => {
    const tenant = await t.signup({ currency: "JPY" });
    expect((await tenant.call("GET", "/v1/program")).body.config.points.earn_per_minor).toBe(200);
    await ok(tenant, "POST", "/v1/program/templates/gym_tiers", {});
    expect((await tenant.call("PATCH", "/v1/business", { currency: "PLN" })).status).toBe(200);
    const tiers = await list(tenant, "/v1/tiers");
    expect(tiers.map((x: { threshold: number }) => x.threshold)).toEqual([0, 50, 120]);

    // The sign-up default (¥200) is no rate anyone chose: it becomes the new currency's (€1).
    const other = await t.signup({ currency: "JPY" });
    expect((await other.call("PATCH", "/v1/business", { currency: "EUR" })).status).toBe(200);
    expect((await other.call("GET", "/v1/program")).body.config.points.earn_per_minor).toBe(100);
    // Nor was a point per whole unit, the default of a business signed up before: ¥1 becomes €1,
    // not a point per cent (¥1 is worth €0.0067).
    const older = await t.signup({ currency: "JPY" });
    const config = (await older.call("GET", "/v1/program")).body.config;
    const perYen = { ...config, points: { ...config.points, earn_per_minor: 1 } };
    expect((await older.call("PUT", "/v1/program", perYen)).status).toBe(200);
    expect((await older.call("PATCH", "/v1/business", { currency: "EUR" })).status).toBe(200);
    expect((await older.call("GET", "/v1/program")).body.config.points.earn_per_minor).toBe(100);
  });

  it("converts back and forth to the same round amounts", async () => {
    const tenant = await t.signup({ currency: "EUR" });
    await ok(tenant, "POST", "/v1/program/templates/boutique_tiers", {});
    expect((await tenant.call("PATCH", "/v1/business", { currency: "PLN" })).status).toBe(200);
    let tiers = await list(tenant, "/v1/tiers");
    let rewards = await list(tenant, "/v1/rewards");
    expect(tiers.map((x: { threshold: number }) => x.threshold)).toEqual([0, 200_000, 600_000]);
    expect(rewards[0].value).toEqual({ amount_minor: 4_000 });
    expect((await tenant.call("PATCH", "/v1/business", { currency: "EUR" })).status).toBe(200);
    tiers = await list(tenant, "/v1/tiers");
    rewards = await list(tenant, "/v1/rewards");
    expect(tiers.map((x: { threshold: number }) => x.threshold)).toEqual([0, 50_000, 150_000]);
    expect(rewards[0].value).toEqual({ amount_minor: 1_000 });
    expect((await tenant.call("GET", "/v1/program")).body.config.points.earn_per_minor).toBe(100);
  });

  it("still refuses the change once a purchase is recorded, and then converts nothing", async () => {
    const tenant = await t.signup({ currency: "EUR" });
    await ok(tenant, "POST", "/v1/program/templates/boutique_tiers", {});
    const member = await ok(tenant, "POST", "/v1/members", { name: "Bo", marketing_consent: false });
    await ok(tenant, "POST", "/v1/purchases", {
      external_id: "eur-1",
      member_id: member.id,
      amount_minor: 1_000,
      currency: "EUR",
    });
    const res = await tenant.call("PATCH", "/v1/business", { currency: "HUF" });
    expect([res.status, res.body.error.code]).toEqual([409, "currency_locked"]);
    const tiers = await list(tenant, "/v1/tiers");
    expect(tiers.map((x: { threshold: number }) => x.threshold)).toEqual([0, 50_000, 150_000]);
    expect((await tenant.call("GET", "/v1/program")).body.config.points.earn_per_minor).toBe(100);
  });
});
