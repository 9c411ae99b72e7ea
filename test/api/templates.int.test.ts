import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBirthdays } from "../../src/use-cases/birthdays.ts";
import { startTestApp, type Tenant, type TestApp } from "../helpers/api.ts";
import { addStaff } from "../helpers/staff.ts";

let t: TestApp;
beforeAll(async () => {
  // 09:00 UTC on 2 March 2026; the test businesses are in Europe/Amsterdam.
  t = await startTestApp();
});
afterAll(async () => t?.close());

async function member(tenant: Tenant, extra: Record<string, unknown> = {}) {
  const res = await tenant.call("POST", "/v1/members", { name: "Mia", marketing_consent: false, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body as { id: string };
}

let purchases = 0;
async function buy(tenant: Tenant, memberId: string, amount_minor: number, items: unknown[] = []) {
  purchases += 1;
  const res = await tenant.call("POST", "/v1/purchases", {
    external_id: `t-${purchases}`,
    member_id: memberId,
    amount_minor,
    currency: "EUR",
    items,
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

/** Row counts of the program's tables for one business: a refused call must leave them as they were. */
async function counts(businessId: string) {
  const out: Record<string, unknown> = {};
  for (const table of ["stamp_cards", "tiers", "earning_rules", "rewards", "programs", "audit_log"]) {
    const row = await sql<{
      n: string;
    }>`select count(*)::text as n from ${sql.table(table)} where business_id = ${businessId}`.execute(
      t.database.db,
    );
    out[table] = row.rows[0]?.n;
  }
  const program = await t.database.db
    .selectFrom("programs")
    .select(["version", "config"])
    .where("business_id", "=", businessId)
    .executeTakeFirstOrThrow();
  out.program = JSON.stringify(program);
  return out;
}

describe("program templates", () => {
  it("lists every template with its defaults", async () => {
    const tenant = await t.signup();
    const res = await tenant.call("GET", "/v1/program/templates");
    expect(res.status).toBe(200);
    expect(res.body.data.map((d: { name: string }) => d.name)).toEqual([
      "cafe_stamp_card",
      "bakery_points",
      "boutique_tiers",
      "gym_tiers",
    ]);
    expect(res.body.data[0].defaults).toMatchObject({ product: "coffee", stamps_required: 10 });
    expect(res.body.next_cursor).toBeNull();
  });

  it.each([
    ["EUR", 100, 1_000, 10, 100],
    ["JPY", 200, 1_000, 5, 200],
    ["BHD", 1_000, 5_000, 5, 1_000],
  ])(
    "a new %s business, and a template, earn a point per about what €1 buys",
    async (currency, unit, paid, points, templateUnit) => {
      const tenant = await t.signup({ currency });
      const program = (await tenant.call("GET", "/v1/program")).body.config;
      expect(program.points.earn_per_minor).toBe(unit);
      const member = (await tenant.call("POST", "/v1/members", { name: "Kai", marketing_consent: false }))
        .body;
      const bought = await tenant.call("POST", "/v1/purchases", {
        external_id: `unit-${currency}`,
        member_id: member.id,
        amount_minor: paid,
        currency,
      });
      expect([bought.status, bought.body.purchase.points_earned]).toEqual([201, points]);
      // A template with no rate given gives a point per about what €1 buys (¥200; BHD is not in
      // the price table: a whole dinar); one given is kept.
      const other = await t.signup({ currency });
      const bakery = await other.call("POST", "/v1/program/templates/bakery_points", {});
      expect([bakery.status, bakery.body.program.config.points.earn_per_minor]).toEqual([201, templateUnit]);
      const given = await t.signup({ currency });
      const boutique = await given.call("POST", "/v1/program/templates/boutique_tiers", {
        earn_per_minor: 7,
      });
      expect([boutique.status, boutique.body.program.config.points.earn_per_minor]).toEqual([201, 7]);
    },
  );

  it("café: 8 stamps on a coffee card, a welcome stamp, and a free coffee for a full card", async () => {
    const tenant = await t.signup();
    const res = await tenant.call("POST", "/v1/program/templates/cafe_stamp_card", {
      stamps_required: 8,
      product: "latte",
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.program.config.points.enabled).toBe(false);
    expect(res.body.stamp_cards).toMatchObject([
      { name: "Latte card", stamps_required: 8, earn_on: "visit" },
    ]);
    const cardId = res.body.stamp_cards[0].id;
    expect(res.body.rewards).toMatchObject([
      { name: "Free latte", type: "free_product", stamp_card_id: cardId, cost_points: null },
    ]);
    expect(res.body.rules).toMatchObject([{ trigger: "signup", effect: { type: "stamps", stamps: 1 } }]);

    const m = await member(tenant);
    let last: { member: { stamp_cards: { stamps: number; full_cards: number }[] } } | undefined;
    for (let i = 0; i < 7; i++) last = await buy(tenant, m.id, 350);
    // One welcome stamp and seven visits: a full card of eight.
    expect(last?.member.stamp_cards[0]).toMatchObject({ stamps: 8, full_cards: 1 });
    const redeem = await tenant.call("POST", `/v1/members/${m.id}/redemptions`, {
      reward_id: res.body.rewards[0].id,
    });
    expect(redeem.status, JSON.stringify(redeem.body)).toBe(201);
  });

  it("café per item: one stamp per coffee on the receipt", async () => {
    const tenant = await t.signup();
    const res = await tenant.call("POST", "/v1/program/templates/cafe_stamp_card", {
      stamp_per: "item",
      category: "coffee",
      welcome_stamps: 0,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.rules).toEqual([]);
    const m = await member(tenant);
    const body = await buy(tenant, m.id, 900, [
      { sku: "cap", category: "coffee", quantity: 2, unit_price_minor: 300 },
      { sku: "cake", category: "pastry", quantity: 1, unit_price_minor: 300 },
    ]);
    expect(body.member.stamp_cards[0].stamps).toBe(2);
  });

  it("bakery: points per euro, a treat for points and a birthday gift", async () => {
    const tenant = await t.signup();
    const res = await tenant.call("POST", "/v1/program/templates/bakery_points", {
      earn_points: 2,
      treat: "croissant",
      treat_cost_points: 20,
      birthday_points: 15,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.program.config.points).toMatchObject({
      enabled: true,
      earn_points: 2,
      earn_per_minor: 100,
      expiry: { policy: "end_of_month", months_after: 12 },
    });
    const m = await member(tenant, { birthday: "1990-03-02" });
    const body = await buy(tenant, m.id, 1250);
    expect(body.member.points.available).toBe(25);
    await runBirthdays(t.ctx, t.clock.now());
    const card = await tenant.call("GET", `/v1/members/${m.id}/card`);
    expect(card.body.points.available).toBe(40);
    expect(res.body.rewards).toMatchObject([{ name: "Free croissant", cost_points: 20 }]);
  });

  it("boutique: Silver, Gold and Platinum by spend; a big spender reaches Platinum and earns ×1.5", async () => {
    const tenant = await t.signup();
    const res = await tenant.call("POST", "/v1/program/templates/boutique_tiers", {
      tiers: [{}, { threshold: 20_000 }, { name: "Diamond", threshold: 60_000 }],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.tiers.map((x: { name: string; threshold: number }) => [x.name, x.threshold])).toEqual([
      ["Silver", 0],
      ["Gold", 20_000],
      ["Diamond", 60_000],
    ]);
    expect(res.body.program.config.tiers).toEqual({ metric: "spend", period: "calendar_year" });
    const m = await member(tenant);
    const first = await buy(tenant, m.id, 70_000);
    expect(first.member.tier.current.name).toBe("Diamond");
    const second = await buy(tenant, m.id, 1_000);
    expect(second.purchase.points_earned).toBe(15);
  });

  it("gym: tiers by visits and points per visit", async () => {
    const tenant = await t.signup();
    const res = await tenant.call("POST", "/v1/program/templates/gym_tiers", {
      tiers: [{}, { threshold: 2 }, { threshold: 3 }],
      points_per_visit: 5,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.program.config.tiers).toEqual({ metric: "visits", period: "rolling_12_months" });
    expect(res.body.rewards[0]).toMatchObject({
      type: "experience",
      eligible_tier_ids: [res.body.tiers[2].id],
    });
    const m = await member(tenant);
    await buy(tenant, m.id, 1_500);
    const second = await buy(tenant, m.id, 1_500);
    expect(second.member.points.available).toBe(10);
    expect(second.member.tier.current.name).toBe("Committed");
    // Points come from the per-visit rule alone (no base rate): the tier multiplies them all the same.
    const third = await buy(tenant, m.id, 1_500);
    expect(third.member.tier.current.name).toBe("Champion");
    const fourth = await buy(tenant, m.id, 1_500);
    expect(fourth.purchase.points_earned).toBe(7);
    expect(fourth.earned.points.map((p: { points: number; reason: string }) => [p.points, p.reason])).toEqual(
      [
        [5, "Points per visit"],
        [2, "Champion tier ×1.5"],
      ],
    );
  });

  it("applies once per idempotency key: a retry gets the first result", async () => {
    const tenant = await t.signup();
    const headers = { "idempotency-key": "onboarding-1" };
    const first = await tenant.call("POST", "/v1/program/templates/cafe_stamp_card", {}, headers);
    expect(first.status).toBe(201);
    const again = await tenant.call("POST", "/v1/program/templates/cafe_stamp_card", {}, headers);
    expect(again.status).toBe(200);
    expect(again.headers["idempotent-replayed"]).toBe("true");
    expect(again.body.stamp_cards[0].id).toBe(first.body.stamp_cards[0].id);
    const other = await tenant.call(
      "POST",
      "/v1/program/templates/cafe_stamp_card",
      { stamps_required: 5 },
      headers,
    );
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_key_reused");
  });

  it("refuses to apply over a program that has things in it, and changes nothing", async () => {
    const tenant = await t.signup();
    expect((await tenant.call("POST", "/v1/program/templates/cafe_stamp_card", {})).status).toBe(201);
    const before = await counts(tenant.businessId);
    const res = await tenant.call("POST", "/v1/program/templates/bakery_points", {});
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("program_not_empty");
    expect(res.body.error.details.existing).toMatchObject({ stamp_cards: 1, rewards: 1, earning_rules: 1 });
    expect(await counts(tenant.businessId)).toEqual(before);
  });

  it.each([
    ["cafe_stamp_card", { stamps_required: 1 }, "stamps_required"],
    ["cafe_stamp_card", { stamp_per: "hour" }, "stamp_per"],
    ["cafe_stamp_card", { product: "" }, "product"],
    ["cafe_stamp_card", { surprise: true }, ""],
    ["bakery_points", { earn_points: 0 }, "earn_points"],
    ["boutique_tiers", { tiers: [{}, { threshold: 10 }, { threshold: 5 }] }, "tiers.2.threshold"],
    ["gym_tiers", { tiers: [{}, {}, {}, {}] }, "tiers"],
    // Two tiers sent are not topped up with an English third.
    [
      "boutique_tiers",
      {
        tiers: [
          { name: "Brąz", threshold: 0 },
          { name: "Srebro", threshold: 100_000 },
        ],
      },
      "tiers",
    ],
    ["gym_tiers", { tiers: [{}, {}] }, "tiers"],
    // A welcome that fills the card gives every newcomer the reward from a public link.
    ["cafe_stamp_card", { stamps_required: 3, welcome_stamps: 3 }, "welcome_stamps"],
    ["cafe_stamp_card", { stamps_required: 2, welcome_stamps: 5 }, "welcome_stamps"],
  ])("refuses %s with %j (400 validation_failed at %s) and changes nothing", async (template, body, path) => {
    const tenant = await t.signup();
    const before = await counts(tenant.businessId);
    const res = await tenant.call("POST", `/v1/program/templates/${template}`, body);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("validation_failed");
    expect(res.body.error.details.issues.map((i: { path: string }) => i.path)).toContain(path);
    expect(await counts(tenant.businessId)).toEqual(before);
  });

  it.each([
    [
      "HUF",
      "boutique_tiers",
      // Gold above the default Platinum (600,000 Ft): the default counts, in the currency.
      { tiers: [{}, { threshold: 700_000 }, {}] },
      "tiers.2.threshold",
      { reason: "threshold_not_above", below_minor: 700_000, currency: "HUF" },
      /^must be above HUF\s700,000, the threshold of the tier below$/,
    ],
    [
      "EUR",
      "gym_tiers",
      { tiers: [{}, { threshold: 50 }, { threshold: 40 }] },
      "tiers.2.threshold",
      { reason: "threshold_not_above", below: 50 },
      /^must be above 50 visits/,
    ],
    [
      "EUR",
      "cafe_stamp_card",
      { stamps_required: 3, welcome_stamps: 3 },
      "welcome_stamps",
      { reason: "welcome_fills_card", stamps_required: 3 },
      /^must be fewer than the stamps a full card needs \(3\)/,
    ],
  ])(
    "gives a check across parameters (%s %s) a reason and its figures a client can word",
    async (currency, template, body, path, params, message) => {
      const tenant = await t.signup({ currency });
      const before = await counts(tenant.businessId);
      const res = await tenant.call("POST", `/v1/program/templates/${template}`, body);
      expect([res.status, res.body.error.code]).toEqual([400, "validation_failed"]);
      expect(res.body.error.details.issues).toEqual([
        { in: "body", path, code: "custom", message: expect.stringMatching(message), params },
      ]);
      expect(await counts(tenant.businessId)).toEqual(before);
    },
  );

  it("lets a manager apply a template but not a cashier", async () => {
    const tenant = await t.signup();
    const cashier = await addStaff(t, tenant, "cashier");
    const before = await counts(tenant.businessId);
    const refused = await cashier.session.call("POST", "/v1/program/templates/gym_tiers", {});
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe("forbidden");
    expect(await counts(tenant.businessId)).toEqual(before);
    expect((await cashier.session.call("GET", "/v1/program/templates")).status).toBe(200);
    const manager = await addStaff(t, tenant, "manager");
    expect((await manager.session.call("POST", "/v1/program/templates/gym_tiers", {})).status).toBe(201);
  });
});
